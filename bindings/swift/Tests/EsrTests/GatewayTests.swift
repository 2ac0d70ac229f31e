import Esr
import Foundation
import XCTest

/// The app's own SMS gateway, written in Swift: what it receives.
final class RecordingSmsGateway: SmsGateway, @unchecked Sendable {
    private let lock = NSLock()
    private var texts: [(to: String, text: String, shown: String)] = []
    private var refusal: String?

    func sendSms(message: SmsMessage) throws {
        lock.lock()
        defer { lock.unlock() }
        if let refusal {
            throw EsrError.Delivery(message: refusal)
        }
        texts.append((message.exposeToE164(), message.exposeText(), String(describing: message)))
    }

    /// Makes every later message fail with `reason` (nil: deliver again).
    func refuse(_ reason: String?) {
        lock.lock()
        refusal = reason
        lock.unlock()
    }

    var sent: [(to: String, text: String, shown: String)] {
        lock.lock()
        defer { lock.unlock() }
        return texts
    }
}

/// The app's own e-mail gateway, written in Swift.
final class RecordingEmailGateway: EmailGateway, @unchecked Sendable {
    private let lock = NSLock()
    private var messages: [EmailMessage] = []

    func sendEmail(message: EmailMessage) throws {
        lock.lock()
        messages.append(message)
        lock.unlock()
    }

    var sent: [EmailMessage] {
        lock.lock()
        defer { lock.unlock() }
        return messages
    }
}

/// Texts and e-mails through gateways the app implements in Swift (uniffi foreign traits).
final class GatewayTests: XCTestCase {
    func testCodesAndLinksGoThroughTheAppsGateways() throws {
        let sms = RecordingSmsGateway()
        let email = RecordingEmailGateway()
        let trust = try TrustFixture.build(smsGateway: sms, emailGateway: email)
        let service = trust.service

        let card = try trust.hscn(trust.ann)
        let challenge = try service.requestMobileCode(session: card, mobile: TrustFixture.mobile)
        let text = try XCTUnwrap(sms.sent.last)
        XCTAssertEqual(text.to, "+447700900374")
        XCTAssertFalse(text.shown.contains("900374"), text.shown)
        let code = try XCTUnwrap(
            text.text.split(separator: " ").first { $0.count == 6 && $0.allSatisfy(\.isNumber) })
        XCTAssertFalse(text.shown.contains(String(code)), text.shown)
        // Nothing went to the built-in outbox.
        XCTAssertEqual(service.outbox().messageCount(), 0)
        XCTAssertTrue(
            try service.verifyPasscode(session: card, challenge: challenge, code: String(code))
                .approved)

        _ = try service.requestUsernameReminder(
            vpd: TrustFixture.vpd, email: "staff\(trust.ann.employeeNumber)@nhs.net",
            dateOfBirth: TrustFixture.dateOfBirth)
        let mail = try XCTUnwrap(email.sent.last)
        XCTAssertEqual(mail.kind(), .usernameReminder)
        XCTAssertEqual(mail.username(), trust.ann.username)
    }

    func testAGatewayRefusalChangesNothing() throws {
        let sms = RecordingSmsGateway()
        let trust = try TrustFixture.build(smsGateway: sms)
        let card = try trust.hscn(trust.ann)
        sms.refuse("the gateway is down")
        let message = assertEsrError({ if case .Delivery = $0 { true } else { false } }) {
            _ = try trust.service.requestMobileCode(session: card, mobile: TrustFixture.mobile)
        }
        XCTAssertTrue(message.contains("the gateway is down"), message)
        XCTAssertTrue(sms.sent.isEmpty)

        sms.refuse(nil)
        let challenge = try trust.service.requestMobileCode(
            session: card, mobile: TrustFixture.mobile)
        XCTAssertEqual(challenge.status, .pending)
        XCTAssertEqual(sms.sent.count, 1)
    }
}
