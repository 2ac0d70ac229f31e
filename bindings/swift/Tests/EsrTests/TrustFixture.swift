import Esr
import Foundation
import XCTest

/// A small trust on a test service (manual clock from 22 November 2026, 09:00 UTC): two user
/// administrators, a director, Mary who manages Ward 5 (Manager Self Service, verified by the
/// director), and Ann on her team. Every person's date of birth is 14 March 1985 and their
/// recruitment e-mail `staff<employee number>@nhs.net`.
struct TrustFixture {
    static let vpd = "297"
    static let mobile = "07700 900374"
    static let password = "correct horse battery staple"
    static let card = "CARD-0001"
    static let managerUrp = Urp.managerSelfServicePayrollApprovalsRequired
    /// 22 November 2026, 09:00 UTC.
    static let start = Date(timeIntervalSince1970: 1_795_338_000)
    static let dateOfBirth = CalendarDate(year: 1985, month: 3, day: 14)
    static let passcodeKey = Data((0..<32).map { UInt8(0x42 + $0) })

    let service: EsrService
    let adminA: PersonInfo
    let adminB: PersonInfo
    let director: PersonInfo
    let mary: PersonInfo
    let ann: PersonInfo

    static let setUp = EsrActor.system(process: "trust set-up")
    static let feed = EsrActor.system(process: "recruitment feed")

    /// Builds the trust; the service's SMS and e-mail go to the gateways given, or else to its
    /// built-in outbox.
    static func build(smsGateway: SmsGateway? = nil, emailGateway: EmailGateway? = nil) throws
        -> TrustFixture
    {
        let service = try EsrService.forTesting(
            passcodeKey: passcodeKey,
            start: start,
            smsGateway: smsGateway,
            emailGateway: emailGateway
        )
        try service.createTrust(
            vpd: vpd,
            name: "Northfield NHS Trust",
            options: TrustOptions(
                automaticInternetAccess: true,
                upgradeManager: true,
                upgradeProfessional: false
            )
        )
        try service.addOrgUnit(
            actor: setUp, vpd: vpd, unit: "Trust HQ", name: "Trust HQ", parent: nil)
        try service.addOrgUnit(
            actor: setUp, vpd: vpd, unit: "Ward 5", name: "Ward 5", parent: "Trust HQ")

        var next = 0
        func staff(_ given: String, _ family: String, unit: String, supervisor: PersonInfo? = nil)
            throws -> PersonInfo
        {
            next += 1
            let number = vpd + String(format: "%05ld", next)
            let person = try service.addPerson(
                actor: feed,
                vpd: vpd,
                person: NewPerson(
                    employeeNumber: number,
                    givenName: given,
                    familyName: family,
                    dateOfBirth: dateOfBirth,
                    recruitmentEmail: "staff\(number)@nhs.net"
                )
            )
            try service.setPassword(actor: feed, username: person.username, password: password)
            _ = try service.addAssignment(
                actor: feed,
                vpd: vpd,
                assignment: NewAssignment(
                    number: number,
                    employeeNumber: number,
                    title: "Staff Nurse",
                    position: "\(vpd)|Staff Nurse|\(unit)|",
                    orgUnit: unit,
                    supervisor: supervisor?.employeeNumber
                )
            )
            return person
        }

        let adminA = try staff("Alice", "Adams", unit: "Trust HQ")
        let adminB = try staff("Bernard", "Brown", unit: "Trust HQ")
        try service.bootstrapUserAdministrators(
            vpd: vpd, holders: [adminA.username, adminB.username], reason: "go-live")
        let director = try staff("Dan", "Director", unit: "Trust HQ")
        let mary = try staff("Mary", "Manager", unit: "Ward 5", supervisor: director)
        let admin = try service.logInWithSmartcard(username: adminA.username, cardId: card)
        try service.grantUrp(
            session: admin,
            request: UrpGrantRequest(
                holder: mary.username,
                urp: managerUrp,
                reason: "runs Ward 5",
                orgUnits: nil,
                verifiedByLineManager: director.employeeNumber
            )
        )
        let ann = try staff("Ann", "Able", unit: "Ward 5", supervisor: mary)
        return TrustFixture(
            service: service, adminA: adminA, adminB: adminB, director: director, mary: mary,
            ann: ann)
    }

    /// An HSCN (smartcard) session.
    func hscn(_ person: PersonInfo) throws -> EsrSession {
        try service.logInWithSmartcard(username: person.username, cardId: Self.card)
    }

    /// An internet session with username and password.
    func web(_ person: PersonInfo) throws -> EsrSession {
        try service.logInWithPassword(username: person.username, password: Self.password)
    }

    /// The code last texted to `mobile` through the built-in outbox.
    func lastCode(to mobile: String = TrustFixture.mobile) throws -> String {
        try XCTUnwrap(service.outbox().lastCodeTo(mobile: mobile), "no code was texted to \(mobile)")
    }

    /// Registers `mobile` for `person` by texted code from an HSCN session, then moves the clock
    /// past the minimum interval between two codes to one number.
    func registerMobile(_ person: PersonInfo, _ mobile: String = TrustFixture.mobile) throws {
        let session = try hscn(person)
        let challenge = try service.requestMobileCode(session: session, mobile: mobile)
        let result = try service.verifyPasscode(
            session: session, challenge: challenge, code: try lastCode(to: mobile))
        XCTAssertTrue(result.approved, "registering \(mobile): \(result.status)")
        try service.advanceClock(seconds: 60)
    }
}

/// Asserts that `body` throws an `EsrError` matching `expected` (compared by case, ignoring the
/// message) and returns its message.
@discardableResult
func assertEsrError(
    _ expected: (EsrError) -> Bool,
    file: StaticString = #filePath,
    line: UInt = #line,
    _ body: () throws -> Void
) -> String {
    do {
        try body()
        XCTFail("expected an EsrError, nothing was thrown", file: file, line: line)
    } catch let error as EsrError {
        XCTAssertTrue(expected(error), "unexpected error \(error)", file: file, line: line)
        return error.message()
    } catch {
        XCTFail("expected an EsrError, got \(error)", file: file, line: line)
    }
    return ""
}
