import Esr
import Foundation
import XCTest

/// The exports no flow test needs: the built-in outbox's own controls, the texted message's
/// fields, per-user internet access, and a trust's local competences.
/// (`scripts/test-swift` fails when an export is called by no XCTest.)
final class SurfaceTests: XCTestCase {
    private var trust: TrustFixture!

    override func setUpWithError() throws {
        trust = try TrustFixture.build()
    }

    private var service: EsrService { trust.service }

    func testTheOutboxKeepsClearsAndRefusesMessages() throws {
        let outbox = service.outbox()
        XCTAssertEqual(outbox.messageCount(), 0)
        XCTAssertNil(try outbox.lastSmsTo(mobile: TrustFixture.mobile))
        let card = try trust.hscn(trust.ann)
        _ = try service.requestMobileCode(session: card, mobile: TrustFixture.mobile)
        XCTAssertEqual(outbox.messageCount(), 1)

        let sms = try XCTUnwrap(try outbox.lastSmsTo(mobile: "+44 7700 900374"))
        let code = try trust.lastCode()
        XCTAssertTrue(sms.exposeText().hasPrefix(code), "the code leads the text")
        XCTAssertEqual(sms.vpd(), TrustFixture.vpd)
        XCTAssertEqual(sms.maskedTo(), "xxxxxxx374")
        XCTAssertEqual(sms.exposeToE164(), "+447700900374")
        for shown in [String(describing: sms), String(reflecting: sms)] {
            XCTAssertTrue(shown.contains("xxxxxxx374"), shown)
            XCTAssertFalse(shown.contains(code), shown)
            XCTAssertFalse(shown.contains("+447700900374"), shown)
        }

        outbox.clear()
        XCTAssertEqual(outbox.messageCount(), 0)
        XCTAssertNil(try outbox.lastCodeTo(mobile: TrustFixture.mobile))

        // A refusing outbox stands for a gateway that is down: the code is not stored.
        outbox.failWith(reason: "the gateway is down")
        try service.advanceClock(seconds: 60)
        let message = assertEsrError({ if case .Delivery = $0 { true } else { false } }) {
            _ = try service.requestMobileCode(session: card, mobile: TrustFixture.mobile)
        }
        XCTAssertTrue(message.contains("the gateway is down"), message)
        XCTAssertEqual(outbox.messageCount(), 0)
        outbox.failWith(reason: nil)
        _ = try service.requestMobileCode(session: card, mobile: TrustFixture.mobile)
        XCTAssertEqual(outbox.messageCount(), 1)

        assertEsrError({ if case .InvalidInput = $0 { true } else { false } }) {
            _ = try outbox.lastCodeTo(mobile: "not a number")
        }
    }

    func testAnEmailNamesItsTrust() throws {
        let email = "staff\(trust.ann.employeeNumber)@nhs.net"
        _ = try service.requestUsernameReminder(
            vpd: TrustFixture.vpd, email: email, dateOfBirth: TrustFixture.dateOfBirth)
        let mail = try XCTUnwrap(try service.outbox().lastEmailTo(address: email))
        XCTAssertEqual(mail.vpd(), TrustFixture.vpd)
        XCTAssertEqual(mail.toAddress(), email)
    }

    func testInternetAccessCanBeApprovedPerUser() throws {
        let service = try EsrService.forTesting(
            passcodeKey: TrustFixture.passcodeKey, start: TrustFixture.start, smsGateway: nil,
            emailGateway: nil)
        try service.createTrust(
            vpd: TrustFixture.vpd, name: "No automatic access",
            options: TrustOptions(
                automaticInternetAccess: false, upgradeManager: false, upgradeProfessional: false))
        let person = try service.addPerson(
            actor: TrustFixture.feed, vpd: TrustFixture.vpd,
            person: NewPerson(
                employeeNumber: "29700001", givenName: "Ann", familyName: "Other",
                dateOfBirth: CalendarDate(year: 1990, month: 1, day: 2),
                recruitmentEmail: "ann@nhs.net"))
        try service.setPassword(
            actor: TrustFixture.feed, username: person.username, password: TrustFixture.password)
        let refused = assertEsrError({ if case .LogInRefused = $0 { true } else { false } }) {
            _ = try service.logInWithPassword(
                username: person.username, password: TrustFixture.password)
        }
        XCTAssertTrue(refused.contains("internet access"), refused)

        try service.approveInternetAccess(actor: TrustFixture.setUp, username: person.username)
        let session = try service.logInWithPassword(
            username: person.username, password: TrustFixture.password)
        XCTAssertEqual(try service.sessionInfo(session: session).accessLevel, .standard)
        assertEsrError({ if case .NotFound = $0 { true } else { false } }) {
            try service.approveInternetAccess(actor: TrustFixture.setUp, username: "297NOBODY01")
        }
    }

    func testALocalCompetenceCanBeDefinedAndRequired() throws {
        let name = "297|LOCAL|Ward 5 Induction|"
        try service.defineCompetence(
            actor: TrustFixture.setUp, vpd: TrustFixture.vpd,
            definition: CompetenceDefinition(name: name, refresherMonths: 12, active: true))
        let defined = try XCTUnwrap(
            try service.competenceCatalogue(vpd: TrustFixture.vpd).first { $0.name == name })
        XCTAssertEqual(defined.refresherMonths, 12)
        XCTAssertTrue(defined.active)

        try service.setRequirement(
            actor: TrustFixture.setUp, vpd: TrustFixture.vpd, competence: name,
            target: .position(position: "297|Staff Nurse|Ward 5|"), essential: false)
        let mine = try service.myCompliance(session: try trust.hscn(trust.ann), asOf: nil)
        let row = try XCTUnwrap(mine.assignments.first?.rows.first { $0.competence == name })
        XCTAssertEqual(row.need, .desirable)
        XCTAssertNil(row.status)

        assertEsrError({ if case .InvalidInput = $0 { true } else { false } }) {
            try service.defineCompetence(
                actor: TrustFixture.setUp, vpd: TrustFixture.vpd,
                definition: CompetenceDefinition(name: "no pipes", refresherMonths: nil, active: true))
        }
    }
}
