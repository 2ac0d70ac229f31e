import Esr
import Foundation
import XCTest

/// One test per error kind the API can produce from Swift: the case, and a message that says
/// what to do. (`AuditBroken` needs a tampered store, `Internal` a library fault and `BulkInput` the
/// bulk scorer, which the bindings do not export; none can be reached through the API. `LearningRefused` is in ComplianceLearningTests.)
final class ErrorKindTests: XCTestCase {
    var trust: TrustFixture!
    var service: EsrService { trust.service }

    override func setUpWithError() throws {
        trust = try TrustFixture.build()
    }

    func testInvalidInput() {
        let message = assertEsrError({ if case .InvalidInput = $0 { true } else { false } }) {
            _ = try parseUsername(text: "not a username")
        }
        XCTAssertFalse(message.isEmpty)
        let named = assertEsrError({ if case .InvalidInput = $0 { true } else { false } }) {
            _ = try functionNamed(name: "Flying")
        }
        XCTAssertTrue(named.contains("Team Compliance"), named)
        do {
            _ = try urpNamed(name: "No Such URP")
            XCTFail("an unknown URP name was accepted")
        } catch let error as EsrError {
            let text = error.message()
            XCTAssertTrue(text.contains("not a URP"), text)
        } catch {
            XCTFail("expected an EsrError, got \(error)")
        }
    }

    func testImportRejectedForAFileWithoutTheColumns() {
        let message = assertEsrError({ if case .ImportRejected = $0 { true } else { false } }) {
            _ = try self.service.importCompetences(
                actor: TrustFixture.setUp, vpd: TrustFixture.vpd,
                csv: Data("Name,Date\nAnn,today\n".utf8), skipBadRows: false)
        }
        XCTAssertTrue(message.contains("Employee Number"), message)
    }

    func testImportRejected() {
        let csv = "Employee Number,Competency Name,Expiry Date\n29799999,\(SwiftApiTests.fire),30-Nov-2028\n"
        let message = assertEsrError({ if case .ImportRejected = $0 { true } else { false } }) {
            _ = try self.service.importCompetences(
                actor: TrustFixture.setUp, vpd: TrustFixture.vpd, csv: Data(csv.utf8),
                skipBadRows: false)
        }
        XCTAssertTrue(message.contains("line 2"), message)
    }

    func testNotFound() {
        let message = assertEsrError({ if case .NotFound = $0 { true } else { false } }) {
            _ = try self.service.person(vpd: TrustFixture.vpd, employeeNumber: "29799999")
        }
        XCTAssertTrue(message.contains("29799999"), message)
    }

    func testConflict() {
        let message = assertEsrError({ if case .Conflict = $0 { true } else { false } }) {
            try self.service.createTrust(
                vpd: TrustFixture.vpd, name: "Again", options: TrustOptions(automaticInternetAccess: false, upgradeManager: false, upgradeProfessional: false))
        }
        XCTAssertTrue(message.contains("297"), message)
    }

    func testLogInRefused() {
        let message = assertEsrError({ if case .LogInRefused = $0 { true } else { false } }) {
            _ = try self.service.logInWithPassword(
                username: self.trust.ann.username, password: "not the password")
        }
        XCTAssertFalse(message.contains("not the password"), message)
    }

    func testAccountLocked() {
        for _ in 0..<5 {
            _ = try? service.logInWithPassword(
                username: trust.ann.username, password: "not the password")
        }
        let message = assertEsrError({ if case .AccountLocked = $0 { true } else { false } }) {
            _ = try self.trust.web(self.trust.ann)
        }
        XCTAssertTrue(message.lowercased().contains("unlock"), message)
    }

    func testSessionExpired() throws {
        let session = try trust.web(trust.ann)
        try service.logOut(session: session)
        let message = assertEsrError({ if case .SessionExpired = $0 { true } else { false } }) {
            _ = try self.service.sessionInfo(session: session)
        }
        XCTAssertTrue(message.contains("log in"), message)
    }

    func testNotPermitted() throws {
        let session = try trust.web(trust.ann)
        let message = assertEsrError({ if case .NotPermitted = $0 { true } else { false } }) {
            try self.service.checkUpgrade(session: session)
        }
        XCTAssertFalse(message.isEmpty)
    }

    // A refused link is its own kind, carrying why (PasscodeRefused itself is checked by
    // SessionPasscodeTests' step-up lock).
    func testRecoveryLinkRefused() {
        let message = assertEsrError({
            if case .RecoveryLinkRefused(_, let reason) = $0 { reason == .notRecognised } else { false }
        }) {
            _ = try self.service.unlockWithLink(token: "no-such-token")
        }
        XCTAssertFalse(message.contains("no-such-token"), message)
    }

    func testRateLimited() throws {
        try trust.registerMobile(trust.mary)
        let session = try trust.web(trust.mary)
        let challenge = try service.requestUpgradeCode(session: session)
        do {
            _ = try service.resendPasscode(session: session, challenge: challenge)
            XCTFail("a resend at once was allowed")
        } catch EsrError.RateLimited(let message, let retryAfterSeconds) {
            XCTAssertEqual(retryAfterSeconds, 30)
            XCTAssertTrue(message.contains("30 seconds"), message)
        }
    }

    func testDelivery() throws {
        try trust.registerMobile(trust.mary)
        let session = try trust.web(trust.mary)
        service.outbox().failWith(reason: "the SMS gateway is down")
        let message = assertEsrError({ if case .Delivery = $0 { true } else { false } }) {
            _ = try self.service.requestUpgradeCode(session: session)
        }
        XCTAssertTrue(message.contains("gateway is down"), message)
    }

    func testStorage() {
        let path = FileManager.default.temporaryDirectory
            .appendingPathComponent("no-such-dir-\(UUID().uuidString)/esr.sqlite").path
        let message = assertEsrError({ if case .Storage = $0 { true } else { false } }) {
            _ = try EsrService.openSqlite(
                path: path, passcodeKey: TrustFixture.passcodeKey, smsGateway: nil,
                emailGateway: nil)
        }
        XCTAssertTrue(message.contains("SQLite"), message)
    }
}
