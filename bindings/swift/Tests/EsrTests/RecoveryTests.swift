import Esr
import Foundation
import XCTest

/// Account recovery: a locked account unlocked by e-mailed link, a forgotten username answered
/// with the username and a password-reset link, and links that work once.
final class RecoveryTests: XCTestCase {
    private var trust: TrustFixture!
    private var email: String { "staff\(trust.ann.employeeNumber)@nhs.net" }

    override func setUpWithError() throws {
        trust = try TrustFixture.build()
    }

    private var service: EsrService { trust.service }

    func testALockedAccountIsUnlockedByEmailedLink() throws {
        for attempt in 1...4 {
            assertEsrError({ if case .LogInRefused = $0 { true } else { false } }) {
                _ = try service.logInWithPassword(
                    username: trust.ann.username, password: "wrong password \(attempt)")
            }
        }
        // The locking guess answers as any wrong password does.
        assertEsrError({ if case .LogInRefused = $0 { true } else { false } }) {
            _ = try service.logInWithPassword(username: trust.ann.username, password: "wrong")
        }
        // Locked: the right password does not open it either.
        assertEsrError({ if case .AccountLocked = $0 { true } else { false } }) {
            _ = try trust.web(trust.ann)
        }

        // The answer is the same whether or not the details match an account.
        let answer = try service.requestUnlockLink(
            vpd: TrustFixture.vpd, email: email, dateOfBirth: TrustFixture.dateOfBirth)
        let unknown = try service.requestUnlockLink(
            vpd: TrustFixture.vpd, email: "nobody@nhs.net", dateOfBirth: TrustFixture.dateOfBirth)
        XCTAssertEqual(answer, unknown)
        XCTAssertTrue(answer.contains("4 hours"), answer)

        let message = try XCTUnwrap(service.outbox().lastEmailTo(address: email))
        XCTAssertEqual(message.kind(), .unlockAccount)
        XCTAssertEqual(message.username(), trust.ann.username)
        XCTAssertEqual(message.toAddress(), email)
        XCTAssertEqual(message.linkExpiresAt(), TrustFixture.start.addingTimeInterval(4 * 3600))
        let token = message.exposeToken()
        XCTAssertFalse(String(describing: message).contains(token))
        XCTAssertTrue(message.text(linkBase: "https://esr.example/unlock?t=").contains(token))

        XCTAssertEqual(try service.unlockWithLink(token: token), trust.ann.username)
        // The refusal carries its reason as data, not only in words.
        assertEsrError({ if case .RecoveryLinkRefused(_, .alreadyUsed) = $0 { true } else { false } }) {
            _ = try service.unlockWithLink(token: token)
        }
        XCTAssertEqual(try service.sessionInfo(session: try trust.web(trust.ann)).accessLevel, .standard)
    }

    func testAForgottenUsernameComesWithAPasswordResetLink() throws {
        _ = try service.requestUsernameReminder(
            vpd: TrustFixture.vpd, email: email, dateOfBirth: TrustFixture.dateOfBirth)
        let message = try XCTUnwrap(service.outbox().lastEmailTo(address: email))
        XCTAssertEqual(message.kind(), .usernameReminder)
        XCTAssertEqual(message.username(), trust.ann.username)

        let newPassword = "a brand new passphrase 2026"
        XCTAssertEqual(
            try service.resetPasswordWithLink(token: message.exposeToken(), password: newPassword),
            trust.ann.username)
        assertEsrError({ if case .LogInRefused = $0 { true } else { false } }) {
            _ = try trust.web(trust.ann)
        }
        let session = try service.logInWithPassword(username: trust.ann.username, password: newPassword)
        XCTAssertEqual(session.username(), trust.ann.username)
        assertEsrError({ if case .RecoveryLinkRefused(_, .alreadyUsed) = $0 { true } else { false } }) {
            _ = try service.resetPasswordWithLink(
                token: message.exposeToken(), password: "yet another passphrase 2026")
        }
    }

    func testALinkExpiresAfterFourHours() throws {
        _ = try service.requestUsernameReminder(
            vpd: TrustFixture.vpd, email: email, dateOfBirth: TrustFixture.dateOfBirth)
        let message = try XCTUnwrap(service.outbox().lastEmailTo(address: email))
        try service.advanceClock(seconds: 4 * 3600)
        assertEsrError({ if case .RecoveryLinkRefused(_, .expired) = $0 { true } else { false } }) {
            _ = try service.resetPasswordWithLink(
                token: message.exposeToken(), password: "a brand new passphrase 2026")
        }
    }

    func testADateThatDoesNotExistIsRefused() {
        let message = assertEsrError({ if case .InvalidInput = $0 { true } else { false } }) {
            _ = try service.requestUsernameReminder(
                vpd: TrustFixture.vpd, email: email,
                dateOfBirth: CalendarDate(year: 1985, month: 2, day: 30))
        }
        XCTAssertTrue(message.contains("1985-02-30"), message)
    }
}
