import Esr
import Foundation
import XCTest

/// Authenticator apps: enrol from HSCN, confirm, upgrade an internet session with a code once,
/// and `Totp(uri:)`, with which an iOS app is the authenticator itself.
final class AuthenticatorTests: XCTestCase {
    private var trust: TrustFixture!

    override func setUpWithError() throws {
        trust = try TrustFixture.build()
        try service.setAuthenticatorKeys(
            keyId: "totp-1", secret: Data((0..<32).map { UInt8(0x21 + $0) }), retired: [])
    }

    private var service: EsrService { trust.service }

    /// Mary enrols from HSCN and confirms with the app's first code; the clock moves to the
    /// next step. The app.
    private func enrolled() throws -> Totp {
        let card = try trust.hscn(trust.mary)
        let enrolment = try service.enrolAuthenticator(session: card)
        let app = try Totp(uri: enrolment.uri())
        let first = try service.confirmAuthenticator(
            session: card, code: try app.code(at: service.now()))
        XCTAssertEqual(first.outcome, .activated)
        try service.advanceClock(seconds: 30)
        return app
    }

    func testEnrolmentIsFromHscnOnlyAndNeverPrintsTheSecret() throws {
        let web = try trust.web(trust.mary)
        assertEsrError({ if case .NotPermitted = $0 { true } else { false } }) {
            _ = try service.enrolAuthenticator(session: web)
        }
        let enrolment = try service.enrolAuthenticator(session: try trust.hscn(trust.mary))
        XCTAssertTrue(enrolment.uri().hasPrefix("otpauth://totp/Northfield%20NHS%20Trust:"))
        XCTAssertEqual(enrolment.manualKey().count, 32)
        XCTAssertEqual(enrolment.digits(), 6)
        XCTAssertEqual(enrolment.period(), 30)
        XCTAssertTrue(try enrolment.qrSvg().contains("<svg"))
        XCTAssertEqual(Array(try enrolment.qrPng(scale: 4).prefix(4)), [0x89, 0x50, 0x4E, 0x47])
        XCTAssertFalse(String(describing: enrolment).contains(enrolment.manualKey()))
        let app = try Totp(uri: enrolment.uri())
        XCTAssertEqual(app.account(), trust.mary.username)
        XCTAssertEqual(app.issuer(), "Northfield NHS Trust")
        XCTAssertFalse(String(describing: app).contains(enrolment.manualKey()))
    }

    func testTotpMakesTheRfc6238Codes() throws {
        // RFC 6238 Appendix B's SHA-1 secret, six digits.
        let app = try Totp(uri: "otpauth://totp/RFC:6238?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ")
        XCTAssertEqual(try app.code(at: Date(timeIntervalSince1970: 59)), "287082")
        XCTAssertEqual(try app.code(at: Date(timeIntervalSince1970: 1_111_111_109)), "081804")
        XCTAssertEqual(try app.secondsLeft(at: Date(timeIntervalSince1970: 59)), 1)
        XCTAssertEqual(try app.secondsLeft(at: Date(timeIntervalSince1970: 60)), 30)
        assertEsrError({ if case .InvalidInput = $0 { true } else { false } }) {
            _ = try Totp(uri: "https://example.invalid/")
        }
    }

    func testUpgradesWithTheAppOnceAndRefusesAReplayAndTheWrongStep() throws {
        let app = try enrolled()
        let web = try trust.web(trust.mary)
        let other = try trust.web(trust.mary)
        let factors = try service.secondFactors(session: web)
        XCTAssertTrue(factors.authenticator)
        XCTAssertNil(factors.mobileMasked)
        let code = try app.code(at: service.now())
        let upgraded = try service.upgradeWithAuthenticator(session: web, code: code)
        XCTAssertTrue(upgraded.approved)
        XCTAssertEqual(upgraded.outcome, .upgraded)
        XCTAssertEqual(upgraded.session?.upgradedAt, service.now())
        let replay = try service.upgradeWithAuthenticator(session: other, code: code)
        XCTAssertEqual(replay.outcome, .replayed)
        XCTAssertFalse(replay.approved)
        let ahead = try app.code(at: service.now().addingTimeInterval(90))
        XCTAssertEqual(
            try service.upgradeWithAuthenticator(session: other, code: ahead).outcome, .wrongCode)
        try service.advanceClock(seconds: 30)
        XCTAssertTrue(
            try service.upgradeWithAuthenticator(
                session: other, code: try app.code(at: service.now())
            ).approved)
    }

    func testAnAdministratorRemovesIt() throws {
        _ = try enrolled()
        let admin = try trust.hscn(trust.adminA)
        try service.removeAuthenticator(
            actor: .user(session: admin), username: trust.mary.username, reason: "lost phone")
        let web = try trust.web(trust.mary)
        XCTAssertFalse(try service.secondFactors(session: web).authenticator)
        assertEsrError({ if case .NotFound = $0 { true } else { false } }) {
            try service.removeAuthenticator(
                actor: .user(session: admin), username: trust.mary.username, reason: "again")
        }
    }
}
