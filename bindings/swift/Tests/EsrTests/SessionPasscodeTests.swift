import Esr
import Foundation
import XCTest

/// Log-in sessions and their access level, and the one-time passcode flows: registering a
/// number from HSCN, upgrading an internet session, a wrong code, "code not received", the
/// time left from the expiry, too many attempts, and sessions that end.
final class SessionPasscodeTests: XCTestCase {
    private var trust: TrustFixture!

    override func setUpWithError() throws {
        trust = try TrustFixture.build()
    }

    private var service: EsrService { trust.service }

    func testSessionsOnEachChannelHaveTheirAccessLevel() throws {
        let card = try trust.hscn(trust.mary)
        let web = try trust.web(trust.mary)
        XCTAssertEqual(card.username(), trust.mary.username)
        XCTAssertNotEqual(card.auditRef(), web.auditRef())

        let onCard = try service.sessionInfo(session: card)
        XCTAssertEqual(onCard.channel, .hscn)
        XCTAssertEqual(onCard.accessLevel, .smartcard)
        let onWeb = try service.sessionInfo(session: web)
        XCTAssertEqual(onWeb.channel, .internet)
        XCTAssertEqual(onWeb.accessLevel, .standard)
        XCTAssertEqual(onWeb.startedAt, TrustFixture.start)
        XCTAssertEqual(onWeb.expiresAt, TrustFixture.start.addingTimeInterval(12 * 3600))
        XCTAssertEqual(onWeb.secondsLeft, 12 * 3600)
        XCTAssertNil(onWeb.upgradedAt)

        // The session prints who it belongs to, never its identifier.
        XCTAssertTrue(String(describing: card).contains(trust.mary.username))
        XCTAssertTrue(String(describing: card).contains(card.auditRef()))

        // Team Compliance: open on HSCN, on the internet only after an upgrade.
        XCTAssertTrue(try service.decide(session: card, function: .teamCompliance).allowed)
        let denied = try service.decide(session: web, function: .teamCompliance)
        XCTAssertFalse(denied.allowed)
        XCTAssertTrue(try XCTUnwrap(denied.reason).contains("upgrade"), denied.reason ?? "")
        XCTAssertTrue(try service.functions(session: web).contains(.myCompliance))
        assertEsrError({ if case .InvalidInput = $0 { true } else { false } }) {
            _ = try functionNamed(name: "Flying")
        }
    }

    func testWrongPasswordIsRefusedWithAMessage() {
        let message = assertEsrError({ if case .LogInRefused = $0 { true } else { false } }) {
            _ = try service.logInWithPassword(username: trust.ann.username, password: "nope")
        }
        XCTAssertFalse(message.contains("nope"))
    }

    func testRegistersAMobileNumberByCodeFromHscnOnly() throws {
        let web = try trust.web(trust.mary)
        assertEsrError({ if case .NotPermitted = $0 { true } else { false } }) {
            _ = try service.requestMobileCode(session: web, mobile: TrustFixture.mobile)
        }

        let card = try trust.hscn(trust.mary)
        let challenge = try service.requestMobileCode(session: card, mobile: TrustFixture.mobile)
        XCTAssertEqual(challenge.purpose, .registerMobile)
        XCTAssertEqual(challenge.status, .pending)
        XCTAssertEqual(challenge.maskedDestination, "xxxxxxx374")
        XCTAssertTrue(challenge.message.hasSuffix("xxxxxxx374"), challenge.message)
        XCTAssertEqual(challenge.attemptsLeft, 5)
        XCTAssertEqual(challenge.secondsLeft, 600)
        XCTAssertEqual(challenge.expiresAt, challenge.issuedAt.addingTimeInterval(600))

        let code = try trust.lastCode()
        XCTAssertEqual(code.count, 6)
        let result = try service.verifyPasscode(session: card, challenge: challenge, code: code)
        XCTAssertEqual(result.status, .approved)
        XCTAssertTrue(result.approved)
        XCTAssertEqual(result.maskedMobile, "xxxxxxx374")
        XCTAssertFalse(result.mobileChanged)
        XCTAssertEqual(
            try service.person(vpd: TrustFixture.vpd, employeeNumber: trust.mary.employeeNumber)
                .maskedMobile,
            "xxxxxxx374")
    }

    func testUpgradesAnInternetSessionAfterAWrongCodeAndAResend() throws {
        try trust.registerMobile(trust.mary)
        let web = try trust.web(trust.mary)
        try service.checkUpgrade(session: web)

        let first = try service.requestUpgradeCode(session: web)
        XCTAssertEqual(first.purpose, .upgradeSession)
        let firstCode = try trust.lastCode()
        let wrong = firstCode == "000000" ? "111111" : "000000"

        // A wrong code costs an attempt; a code of the wrong shape costs none.
        let miss = try service.verifyPasscode(session: web, challenge: first, code: wrong)
        XCTAssertEqual(miss.status, .wrongCode)
        XCTAssertFalse(miss.approved)
        XCTAssertEqual(miss.attemptsLeft, 4)
        assertEsrError({ if case .InvalidInput = $0 { true } else { false } }) {
            _ = try service.verifyPasscode(session: web, challenge: first, code: "12ab")
        }
        XCTAssertEqual(try service.passcodeStatus(session: web, challenge: first).attemptsLeft, 4)

        // "Code not received" moments later is refused with the wait; a minute later it is sent
        // and the first code is superseded.
        assertEsrError({ if case .RateLimited(_, let wait) = $0 { wait > 0 && wait <= 60 } else { false } }) {
            _ = try service.resendPasscode(session: web, challenge: first)
        }
        try service.advanceClock(seconds: 60)
        let second = try service.resendPasscode(session: web, challenge: first)
        XCTAssertNotEqual(second.id, first.id)
        XCTAssertEqual(second.attemptsLeft, 5)
        XCTAssertEqual(try service.passcodeStatus(session: web, challenge: first).status, .superseded)
        XCTAssertEqual(
            try service.verifyPasscode(session: web, challenge: first, code: firstCode).status,
            .superseded)

        let done = try service.verifyPasscode(
            session: web, challenge: second, code: try trust.lastCode())
        XCTAssertEqual(done.status, .approved)
        let upgraded = try XCTUnwrap(done.session)
        XCTAssertEqual(upgraded.accessLevel, .upgraded)
        XCTAssertEqual(upgraded.upgradedAt, TrustFixture.start.addingTimeInterval(120))
        XCTAssertEqual(try service.sessionInfo(session: web).accessLevel, .upgraded)
        XCTAssertTrue(try service.decide(session: web, function: .teamCompliance).allowed)

        // A used code stays used, and an upgraded session cannot be upgraded again.
        XCTAssertEqual(
            try service.verifyPasscode(
                session: web, challenge: second, code: try trust.lastCode()
            ).status,
            .alreadyUsed)
        assertEsrError({ if case .Conflict = $0 { true } else { false } }) {
            _ = try service.requestUpgradeCode(session: web)
        }
    }

    func testTimeLeftCountsDownToTheExpiry() throws {
        let card = try trust.hscn(trust.ann)
        let challenge = try service.requestMobileCode(session: card, mobile: "07700 900123")
        try service.advanceClock(seconds: 240)
        let later = try service.passcodeStatus(session: card, challenge: challenge)
        XCTAssertEqual(later.secondsLeft, 360)
        XCTAssertEqual(later.status, .pending)
        XCTAssertEqual(later.expiresAt, challenge.expiresAt)

        try service.advanceClock(seconds: 361)
        let expired = try service.passcodeStatus(session: card, challenge: challenge)
        XCTAssertEqual(expired.secondsLeft, 0)
        XCTAssertEqual(expired.status, .expired)
        let code = try trust.lastCode(to: "07700 900123")
        XCTAssertEqual(
            try service.verifyPasscode(session: card, challenge: challenge, code: code).status,
            .expired)
    }

    func testFiveWrongCodesUseUpTheChallenge() throws {
        let card = try trust.hscn(trust.ann)
        let challenge = try service.requestMobileCode(session: card, mobile: "07700 900123")
        let right = try trust.lastCode(to: "07700 900123")
        let wrong = right == "000000" ? "111111" : "000000"
        for left in (1..<5).reversed() {
            let result = try service.verifyPasscode(session: card, challenge: challenge, code: wrong)
            XCTAssertEqual(result.status, .wrongCode)
            XCTAssertEqual(result.attemptsLeft, UInt32(left))
        }
        // The guess that uses the challenge up says so.
        XCTAssertEqual(
            try service.verifyPasscode(session: card, challenge: challenge, code: wrong).status,
            .tooManyAttempts)
        XCTAssertEqual(
            try service.passcodeStatus(session: card, challenge: challenge).status,
            .maxAttemptsReached)
        XCTAssertEqual(
            try service.verifyPasscode(session: card, challenge: challenge, code: right).status,
            .tooManyAttempts)
        XCTAssertNil(try service.person(vpd: TrustFixture.vpd, employeeNumber: trust.ann.employeeNumber).maskedMobile)
    }

    func testAStepUpLockIsClearedByAUserAdministrator() throws {
        try trust.registerMobile(trust.mary)
        let web = try trust.web(trust.mary)
        // Four codes each used up by five wrong guesses lock the account's second factor.
        for _ in 1...4 {
            let challenge = try service.requestUpgradeCode(session: web)
            let wrong = try trust.lastCode() == "000000" ? "111111" : "000000"
            for _ in 1...5 {
                _ = try service.verifyPasscode(session: web, challenge: challenge, code: wrong)
            }
            try service.advanceClock(seconds: 60)
        }
        let locked = assertEsrError({ if case .PasscodeRefused = $0 { true } else { false } }) {
            _ = try service.requestUpgradeCode(session: web)
        }
        XCTAssertTrue(locked.contains("user administrator"), locked)

        // Only a user administrator (Reset accounts) clears it, and only once.
        let ann = EsrActor.user(session: try trust.hscn(trust.ann))
        assertEsrError({ if case .NotPermitted = $0 { true } else { false } }) {
            try service.clearStepUpLock(actor: ann, username: trust.mary.username, reason: "asked")
        }
        let admin = EsrActor.user(session: try trust.hscn(trust.adminA))
        try service.clearStepUpLock(
            actor: admin, username: trust.mary.username, reason: "identity checked by phone")
        assertEsrError({ if case .InvalidInput = $0 { true } else { false } }) {
            try service.clearStepUpLock(actor: admin, username: trust.mary.username, reason: "again")
        }

        try service.advanceClock(seconds: 3600)  // past the limit on codes sent per hour
        // An hour unused is past the 30-minute idle timeout: log in again.
        let fresh = try trust.web(trust.mary)
        let challenge = try service.requestUpgradeCode(session: fresh)
        let result = try service.verifyPasscode(
            session: fresh, challenge: challenge, code: try trust.lastCode())
        XCTAssertEqual(result.status, .approved)
        XCTAssertEqual(try service.sessionInfo(session: fresh).accessLevel, .upgraded)
    }

    func testSessionsEndByLogOutAndByExpiry() throws {
        let web = try trust.web(trust.ann)
        try service.logOut(session: web)
        assertEsrError({ if case .SessionExpired = $0 { true } else { false } }) {
            _ = try service.sessionInfo(session: web)
        }

        let card = try trust.hscn(trust.ann)
        // Used every 20 minutes, so that the 30-minute idle timeout never comes first.
        for _ in 0..<35 {
            try service.advanceClock(seconds: 20 * 60)
            _ = try service.functions(session: card)
        }
        try service.advanceClock(seconds: 12 * 3600 - 1 - 35 * 20 * 60)
        XCTAssertEqual(try service.sessionInfo(session: card).secondsLeft, 1)
        try service.advanceClock(seconds: 1)
        assertEsrError({ if case .SessionExpired = $0 { true } else { false } }) {
            _ = try service.functions(session: card)
        }
    }

    func testTheTestClockMovesAndTheSystemClockDoesNot() throws {
        XCTAssertEqual(service.now(), TrustFixture.start)
        XCTAssertEqual(service.ukToday(), CalendarDate(year: 2026, month: 11, day: 22))
        try service.setNow(instant: TrustFixture.start.addingTimeInterval(86400))
        XCTAssertEqual(service.ukToday(), CalendarDate(year: 2026, month: 11, day: 23))

        let real = try EsrService(
            passcodeKey: TrustFixture.passcodeKey, smsGateway: nil, emailGateway: nil)
        assertEsrError({ if case .InvalidInput = $0 { true } else { false } }) {
            try real.advanceClock(seconds: 1)
        }
        assertEsrError({ if case .InvalidInput = $0 { true } else { false } }) {
            _ = try EsrService(passcodeKey: Data("short".utf8), smsGateway: nil, emailGateway: nil)
        }
    }

    func testOneServiceServesManyThreads() throws {
        let people = [trust.adminA, trust.adminB, trust.director, trust.mary, trust.ann]
        let collected = Collected()
        let service = self.service
        DispatchQueue.concurrentPerform(iterations: 20) { i in
            let person = people[i % people.count]
            do {
                let session = try service.logInWithSmartcard(
                    username: person.username, cardId: TrustFixture.card)
                collected.add(try service.sessionInfo(session: session).auditRef)
            } catch {
                collected.fail("\(error)")
            }
        }
        XCTAssertEqual(collected.failures, [])
        XCTAssertEqual(Set(collected.refs).count, 20)
    }

    func testPeopleSeeAndEndTheirSessionsAndAPasswordChangeEndsTheOthers() throws {
        let a = try trust.web(trust.ann)
        let b = try trust.web(trust.ann)
        let c = try trust.hscn(trust.ann)
        let me = EsrActor.user(session: a)
        let seen = try service.sessionsOf(actor: me, username: trust.ann.username)
        XCTAssertEqual(seen.count, 3)
        XCTAssertEqual(seen.filter(\.current).map(\.reference), [try service.sessionInfo(session: a).auditRef])
        try service.endSession(
            actor: me, username: trust.ann.username,
            reference: try service.sessionInfo(session: b).auditRef)
        assertEsrError({ if case .SessionExpired = $0 { true } else { false } }) {
            _ = try service.sessionInfo(session: b)
        }
        try service.changePassword(
            session: a, current: TrustFixture.password, newPassword: "a brand new passphrase")
        assertEsrError({ if case .SessionExpired = $0 { true } else { false } }) {
            _ = try service.sessionInfo(session: c)
        }
        XCTAssertEqual(
            try service.endAllSessions(
                actor: TrustFixture.setUp, username: trust.ann.username, exceptReference: nil), 1)
    }

    func testTheLockingGuessSaysLocked() throws {
        try trust.registerMobile(trust.mary)
        let web = try trust.web(trust.mary)
        var last: VerifyStatus? = nil
        for _ in 1...4 {
            let challenge = try service.requestUpgradeCode(session: web)
            let wrong = try trust.lastCode() == "000000" ? "111111" : "000000"
            for _ in 1...5 {
                last = try service.verifyPasscode(session: web, challenge: challenge, code: wrong).status
            }
            try service.advanceClock(seconds: 60)
        }
        // The twentieth wrong code in 24 hours locks step-up and answers locked at once.
        XCTAssertEqual(last, .locked)
    }

    func testSettingsReachTheServiceAndAnUnusedSessionTimesOut() throws {
        let quick = try EsrService.forTesting(
            passcodeKey: TrustFixture.passcodeKey, start: TrustFixture.start, smsGateway: nil,
            emailGateway: nil, settings: ServiceSettings(internetIdleTimeoutSeconds: 600))
        try quick.createTrust(
            vpd: TrustFixture.vpd, name: "Northfield NHS Trust",
            options: TrustOptions(
                automaticInternetAccess: true, upgradeManager: false, upgradeProfessional: false))
        try quick.addOrgUnit(
            actor: TrustFixture.setUp, vpd: TrustFixture.vpd, unit: "Trust HQ", name: "Trust HQ",
            parent: nil)
        let dora = try quick.addPerson(
            actor: TrustFixture.feed, vpd: TrustFixture.vpd,
            person: NewPerson(
                employeeNumber: "29700001", givenName: "Dora", familyName: "Idle",
                dateOfBirth: TrustFixture.dateOfBirth, recruitmentEmail: "dora@nhs.net"))
        try quick.setPassword(
            actor: TrustFixture.feed, username: dora.username, password: TrustFixture.password)
        let web = try quick.logInWithPassword(username: dora.username, password: TrustFixture.password)
        try quick.advanceClock(seconds: 599)
        _ = try quick.sessionInfo(session: web)
        try quick.advanceClock(seconds: 600)
        let idle = assertEsrError({ if case .SessionExpired = $0 { true } else { false } }) {
            _ = try quick.sessionInfo(session: web)
        }
        XCTAssertTrue(idle.contains("10 minutes without activity"), idle)
        // Out of NIST's range: refused with the setting's name.
        let refused = assertEsrError({ if case .InvalidInput = $0 { true } else { false } }) {
            _ = try EsrService.forTesting(
                passcodeKey: TrustFixture.passcodeKey, start: TrustFixture.start, smsGateway: nil,
                emailGateway: nil, settings: ServiceSettings(internetIdleTimeoutSeconds: 3600))
        }
        XCTAssertTrue(refused.contains("internet_idle_timeout"), refused)
    }
}

/// What the threads of `testOneServiceServesManyThreads` report, behind a lock.
private final class Collected: @unchecked Sendable {
    private let lock = NSLock()
    private(set) var refs: [String] = []
    private(set) var failures: [String] = []

    func add(_ ref: String) {
        lock.lock()
        refs.append(ref)
        lock.unlock()
    }

    func fail(_ error: String) {
        lock.lock()
        failures.append(error)
        lock.unlock()
    }
}
