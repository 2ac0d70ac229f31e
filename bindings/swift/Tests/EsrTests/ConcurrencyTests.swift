import Esr
import Foundation
import XCTest

/// One service shared by many threads: a one-time code is consumed once however many callers
/// race to verify it, whether they are threads (`DispatchQueue.concurrentPerform`) or Swift
/// concurrency tasks, and independent log-ins on many threads all succeed.
final class ConcurrencyTests: XCTestCase {
    private static let racers = 64

    /// An internet session of Mary's with an upgrade code pending: the session, the challenge
    /// and the right code.
    private func pendingUpgrade() throws -> (TrustFixture, EsrSession, PasscodeChallenge, String) {
        let trust = try TrustFixture.build()
        try trust.registerMobile(trust.mary)
        let web = try trust.web(trust.mary)
        let challenge = try trust.service.requestUpgradeCode(session: web)
        return (trust, web, challenge, try trust.lastCode())
    }

    /// Exactly one approval; every other racer saw the code already used.
    private func assertOneApproval(
        _ outcomes: [Result<VerifyStatus, Error>], file: StaticString = #filePath, line: UInt = #line
    ) {
        XCTAssertEqual(outcomes.count, Self.racers, file: file, line: line)
        var approved = 0
        for outcome in outcomes {
            switch outcome {
            case .success(.approved): approved += 1
            case .success(.alreadyUsed): break
            case .success(let other):
                XCTFail("a racer got \(other)", file: file, line: line)
            case .failure(let error):
                XCTFail("a racer got an error: \(error)", file: file, line: line)
            }
        }
        XCTAssertEqual(approved, 1, "approvals of one code", file: file, line: line)
    }

    func testThreadsVerifyingOneCodeGetExactlyOneApproval() throws {
        let (trust, web, challenge, code) = try pendingUpgrade()
        let lock = NSLock()
        var outcomes: [Result<VerifyStatus, Error>] = []
        DispatchQueue.concurrentPerform(iterations: Self.racers) { _ in
            let outcome = Result {
                try trust.service.verifyPasscode(session: web, challenge: challenge, code: code)
                    .status
            }
            lock.lock()
            outcomes.append(outcome)
            lock.unlock()
        }
        assertOneApproval(outcomes)
        XCTAssertEqual(try trust.service.sessionInfo(session: web).accessLevel, .upgraded)
    }

    func testTasksVerifyingOneCodeGetExactlyOneApproval() async throws {
        let (trust, web, challenge, code) = try pendingUpgrade()
        let service = trust.service
        let outcomes = await withTaskGroup(of: Result<VerifyStatus, Error>.self) { group in
            for _ in 0..<Self.racers {
                group.addTask {
                    Result {
                        try service.verifyPasscode(session: web, challenge: challenge, code: code)
                            .status
                    }
                }
            }
            var all: [Result<VerifyStatus, Error>] = []
            for await outcome in group {
                all.append(outcome)
            }
            return all
        }
        assertOneApproval(outcomes)
        XCTAssertEqual(try service.sessionInfo(session: web).accessLevel, .upgraded)
    }

    func testThreadsRacingWrongCodesUseUpTheAttemptsExactly() throws {
        let (trust, web, challenge, code) = try pendingUpgrade()
        let wrong = code == "000000" ? "111111" : "000000"
        let lock = NSLock()
        var results: [VerifyResult] = []
        var errors: [Error] = []
        DispatchQueue.concurrentPerform(iterations: Self.racers) { _ in
            do {
                let result = try trust.service.verifyPasscode(
                    session: web, challenge: challenge, code: wrong)
                lock.lock()
                results.append(result)
                lock.unlock()
            } catch {
                lock.lock()
                errors.append(error)
                lock.unlock()
            }
        }
        XCTAssertTrue(errors.isEmpty, "\(errors)")
        // Five attempts, each counted once: four racers are told their code is wrong, with 4,
        // 3, 2 and 1 attempts left, the fifth that it used the code up, and no racer gets a
        // sixth try, not even with the right code afterwards.
        let wrongs = results.filter { $0.status == .wrongCode }
        XCTAssertEqual(wrongs.count, 4, "\(results)")
        XCTAssertEqual(wrongs.compactMap(\.attemptsLeft).sorted(), [1, 2, 3, 4])
        XCTAssertEqual(results.filter { $0.status == .tooManyAttempts }.count, Self.racers - 4)
        XCTAssertEqual(
            try trust.service.verifyPasscode(session: web, challenge: challenge, code: code)
                .status,
            .tooManyAttempts)
    }

    func testManyLogInsOnManyThreadsEachGetTheirOwnSession() throws {
        let trust = try TrustFixture.build()
        let people = [trust.adminA, trust.adminB, trust.director, trust.mary, trust.ann]
        let lock = NSLock()
        var refs: [String] = []
        var errors: [Error] = []
        DispatchQueue.concurrentPerform(iterations: 40) { i in
            let person = people[i % people.count]
            do {
                let session =
                    i.isMultiple(of: 2) ? try trust.web(person) : try trust.hscn(person)
                XCTAssertEqual(session.username(), person.username)
                _ = try trust.service.decide(session: session, function: .myCompliance)
                lock.lock()
                refs.append(session.auditRef())
                lock.unlock()
            } catch {
                lock.lock()
                errors.append(error)
                lock.unlock()
            }
        }
        XCTAssertTrue(errors.isEmpty, "\(errors)")
        XCTAssertEqual(Set(refs).count, 40, "every log-in has its own session")
    }
}
