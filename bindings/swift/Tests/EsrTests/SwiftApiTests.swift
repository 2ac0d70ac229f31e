import Esr
import Foundation
import XCTest

/// The parts of the API shaped for Swift: enums for functions and URPs, `async` variants of the
/// slow calls, a service on a SQLite file, and the Caldicott exception.
final class SwiftApiTests: XCTestCase {
    static let fire = "NHS|CSTF|Fire Safety - 1 Year|"

    func testAsyncLogInAndPasswordChangesRunOffTheCallersThread() async throws {
        let trust = try TrustFixture.build()
        let service = trust.service
        let session = try await service.logInWithPasswordAsync(
            username: trust.ann.username, password: TrustFixture.password)
        XCTAssertEqual(session.username(), trust.ann.username)
        let newPassword = "a different horse entirely"
        try await service.setPasswordAsync(
            actor: TrustFixture.feed, username: trust.ann.username, password: newPassword)
        _ = try await service.logInWithPasswordAsync(
            username: trust.ann.username, password: newPassword)
        do {
            _ = try await service.logInWithPasswordAsync(
                username: trust.ann.username, password: TrustFixture.password)
            XCTFail("the old password still logs in")
        } catch EsrError.LogInRefused(let message) {
            XCTAssertFalse(message.contains(TrustFixture.password), message)
        }

        let email = "staff\(trust.ann.employeeNumber)@nhs.net"
        _ = try service.requestUsernameReminder(
            vpd: TrustFixture.vpd, email: email, dateOfBirth: TrustFixture.dateOfBirth)
        let mail = try XCTUnwrap(service.outbox().lastEmailTo(address: email))
        let username = try await service.resetPasswordWithLinkAsync(
            token: mail.exposeToken(), password: "yet another passphrase here")
        XCTAssertEqual(username, trust.ann.username)
    }

    func testManyAsyncLogInsAtOnce() async throws {
        let trust = try TrustFixture.build()
        let service = trust.service
        let username = trust.mary.username
        let names = try await withThrowingTaskGroup(of: String.self) { group in
            for _ in 0..<8 {
                group.addTask {
                    try await service.logInWithPasswordAsync(
                        username: username, password: TrustFixture.password
                    ).username()
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        XCTAssertEqual(names, Array(repeating: username, count: 8))
    }

    func testCompetenceImportsSyncAndAsync() async throws {
        let trust = try TrustFixture.build()
        let service = trust.service
        let csv = """
            Employee Number,Competency Name,Expiry Date
            \(trust.ann.employeeNumber),\(Self.fire),30-Nov-2028
            \(trust.mary.employeeNumber),\(Self.fire),30-Nov-2028
            """
        let summary = try await service.importCompetencesAsync(
            actor: TrustFixture.setUp, vpd: TrustFixture.vpd, csv: Data(csv.utf8),
            skipBadRows: false)
        XCTAssertEqual(summary.imported, 2)
        XCTAssertEqual(summary.skippedTotal, 0)

        let withBadRow = csv + "\n29799999,\(Self.fire),30-Nov-2028\n"
        let skipped = try service.importCompetences(
            actor: TrustFixture.setUp, vpd: TrustFixture.vpd, csv: Data(withBadRow.utf8),
            skipBadRows: true)
        XCTAssertEqual(skipped.skippedTotal, 1)
        XCTAssertEqual(skipped.skipped.first?.line, 4)
        XCTAssertTrue(
            skipped.skipped.first?.reason.contains("no person") ?? false,
            skipped.skipped.first?.reason ?? "")
    }

    func testASqliteServiceKeepsItsTrustAcrossARelaunch() throws {
        let dir = FileManager.default.temporaryDirectory
            .appendingPathComponent("esr-swift-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("esr.sqlite").path

        var first: EsrService? = try EsrService.openSqlite(
            path: path, passcodeKey: TrustFixture.passcodeKey, smsGateway: nil, emailGateway: nil)
        try first?.createTrust(
            vpd: TrustFixture.vpd, name: "Northfield NHS Trust", options: TrustOptions(automaticInternetAccess: false, upgradeManager: false, upgradeProfessional: false))
        let added = try XCTUnwrap(first).addPerson(
            actor: TrustFixture.feed, vpd: TrustFixture.vpd,
            person: NewPerson(
                employeeNumber: "29700001", givenName: "Emma", familyName: "Conroy",
                dateOfBirth: TrustFixture.dateOfBirth, recruitmentEmail: "emma@nhs.net"))
        first = nil  // the app is closed

        let reopened = try EsrService.openSqlite(
            path: path, passcodeKey: TrustFixture.passcodeKey, smsGateway: nil, emailGateway: nil)
        let found = try reopened.person(vpd: TrustFixture.vpd, employeeNumber: "29700001")
        XCTAssertEqual(found, added)
        XCTAssertFalse(try reopened.competenceCatalogue(vpd: TrustFixture.vpd).isEmpty)
        assertEsrError({ if case .Conflict = $0 { true } else { false } }) {
            try reopened.createTrust(
                vpd: TrustFixture.vpd, name: "Northfield NHS Trust", options: TrustOptions(automaticInternetAccess: false, upgradeManager: false, upgradeProfessional: false))
        }
    }

    func testAGrantUnderACaldicottException() throws {
        let trust = try TrustFixture.build()
        let admin = try trust.hscn(trust.adminA)
        let before = try trust.service.functions(session: trust.hscn(trust.ann))
        XCTAssertFalse(before.contains(.teamCompliance))
        try trust.service.grantUrp(
            session: admin,
            request: UrpGrantRequest(
                holder: trust.ann.username, urp: .supervisorSelfService,
                reason: "covers Ward 5 during an outbreak", orgUnits: ["Ward 5"],
                verifiedByLineManager: nil,
                caldicottGuardian: trust.director.employeeNumber,
                caldicottReference: "CG-2026-014"))
        let after = try trust.service.functions(session: trust.hscn(trust.ann))
        XCTAssertTrue(after.contains(.teamCompliance), "\(after)")

        // A guardian without the exception's reference is refused before anything is stored.
        let message = assertEsrError({ if case .InvalidInput = $0 { true } else { false } }) {
            try trust.service.grantUrp(
                session: admin,
                request: UrpGrantRequest(
                    holder: trust.mary.username, urp: .supervisorSelfService,
                    reason: "acting up", orgUnits: nil, verifiedByLineManager: nil,
                    caldicottGuardian: trust.director.employeeNumber, caldicottReference: nil))
        }
        XCTAssertTrue(message.contains("Caldicott"), message)
    }
}
