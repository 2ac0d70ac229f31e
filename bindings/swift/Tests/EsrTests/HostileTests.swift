import Esr
import Foundation
import XCTest

/// The hostile values of esr-ffi's Python suite (esr-ffi/tests/python/test_hostile.py) that
/// Swift's types allow: huge, empty, blank, NUL and control-character strings; Int64 and UInt32
/// at their ends; calendar dates with month 13, day 0 or year ±2^31; instants at the ends of
/// Foundation's time; empty, short and huge keys; empty and huge lists. Each call must return or
/// throw an `EsrError` -- never another error, which is how a Rust panic reaches Swift -- with
/// a message of human length, and a refused call must change nothing. A 10 MB or NUL string is
/// never stored.
final class HostileTests: XCTestCase {
    static let strings: [(label: String, value: String)] = [
        ("huge", String(repeating: "x", count: 10_000_000)),
        ("huge-unicode", String(repeating: "é", count: 3_000_000)),
        ("empty", ""),
        ("blank", "   "),
        ("nul", "297\u{0}"),
        ("control", "a\nb\u{7f}"),
    ]
    /// No argument may take these and store them.
    static let mustRefuse: Set<String> = ["huge", "huge-unicode", "nul"]
    static let invalidDates: [(label: String, value: CalendarDate)] = [
        ("month-13", CalendarDate(year: 2026, month: 13, day: 1)),
        ("month-0", CalendarDate(year: 2026, month: 0, day: 1)),
        ("day-0", CalendarDate(year: 2026, month: 1, day: 0)),
        ("feb-30", CalendarDate(year: 2026, month: 2, day: 30)),
        ("month-255", CalendarDate(year: 2026, month: 255, day: 255)),
    ]
    static let extremeDates: [(label: String, value: CalendarDate)] = [
        ("year-i32-max", CalendarDate(year: Int32.max, month: 12, day: 31)),
        ("year-i32-min", CalendarDate(year: Int32.min, month: 1, day: 1)),
        ("year-0", CalendarDate(year: 0, month: 1, day: 1)),
        ("year-10000", CalendarDate(year: 10_000, month: 1, day: 1)),
    ]
    static let instants: [(label: String, value: Date)] = [
        ("distant-past", Date.distantPast),
        ("distant-future", Date.distantFuture),
        ("year-1", Date(timeIntervalSince1970: -62_135_596_800)),
        ("year-9999", Date(timeIntervalSince1970: 253_402_300_799)),
        ("before-epoch", Date(timeIntervalSince1970: -0.000_001)),
    ]

    /// The fixture trust, with an HSCN session and a pending code of Ann's standing by.
    private struct World {
        let trust: TrustFixture
        let card: EsrSession
        let challenge: PasscodeChallenge

        static func build() throws -> World {
            let trust = try TrustFixture.build()
            let card = try trust.hscn(trust.ann)
            let challenge = try trust.service.requestMobileCode(
                session: card, mobile: "07700 900123")
            try trust.service.advanceClock(seconds: 120)
            return World(trust: trust, card: card, challenge: challenge)
        }

        /// What a refused call must leave as it was.
        func snapshot() throws -> [String] {
            let t = trust
            let s = t.service
            var state = try [t.adminA, t.adminB, t.director, t.mary, t.ann].map {
                String(
                    describing: try s.person(vpd: TrustFixture.vpd, employeeNumber: $0.employeeNumber))
            }
            state.append(String(describing: try s.sessionInfo(session: card)))
            state.append(String(describing: try s.passcodeStatus(session: card, challenge: challenge)))
            state.append(String(describing: try s.myCompliance(session: card, asOf: nil)))
            state.append(String(describing: try s.competenceCatalogue(vpd: TrustFixture.vpd).count))
            state.append(String(describing: s.outbox().messageCount()))
            state.append(String(describing: s.now()))
            return state
        }
    }

    /// Counts the hostile calls made, so that a table emptied by mistake fails.
    private var probes = 0

    /// Calls `body` with hostile input `label` on `world`, which it replaces with a fresh one
    /// when the call changed something (or, with `statefulRefusal`, whenever it ran).
    private func probe(
        _ name: String, _ label: String, _ world: inout World, mustRefuse: Bool = false,
        statefulRefusal: Bool = false, file: StaticString = #filePath, line: UInt = #line,
        _ body: (World) throws -> Void
    ) throws {
        probes += 1
        let what = "\(name) with \(label)"
        let before = try world.snapshot()
        do {
            try body(world)
            if mustRefuse {
                XCTFail("\(what) was accepted", file: file, line: line)
            }
        } catch let error as EsrError {
            let message = error.localizedDescription
            XCTAssertLessThan(
                message.count, 2_000, "\(what): a \(message.count)-character message",
                file: file, line: line)
            if statefulRefusal {
                world = try World.build()
            } else {
                XCTAssertEqual(
                    try world.snapshot(), before, "\(what) was refused but changed state",
                    file: file, line: line)
            }
            return
        } catch {
            XCTFail("\(what): not an EsrError (a Rust panic?): \(error)", file: file, line: line)
            world = try World.build()
            return
        }
        // A call that moved the clock far enough ends the standing session: changed state too.
        var after: [String]? = nil
        do {
            after = try world.snapshot()
        } catch is EsrError {}
        if after != before {
            if Self.mustRefuse.contains(label) {
                XCTFail("\(what) was stored", file: file, line: line)
            }
            world = try World.build()
        }
    }

    private typealias StringCase = (name: String, call: (World, String) throws -> Void)

    /// Every string argument of every export that takes one, each given each hostile string.
    private static let stringCases: [StringCase] = {
        let vpd = TrustFixture.vpd
        let feed = TrustFixture.feed
        func person(_ change: (inout NewPerson) -> Void) -> NewPerson {
            var p = NewPerson(
                employeeNumber: "29700099", givenName: "Ann", familyName: "Other",
                dateOfBirth: TrustFixture.dateOfBirth, recruitmentEmail: "ann.other@nhs.net")
            change(&p)
            return p
        }
        func assignment(_ w: World, _ change: (inout NewAssignment) -> Void) -> NewAssignment {
            var a = NewAssignment(
                number: "\(w.trust.ann.employeeNumber)-2", employeeNumber: w.trust.ann.employeeNumber,
                title: "Bank Nurse", position: "297|Bank Nurse|Ward 5|", orgUnit: "Ward 5",
                supervisor: w.trust.mary.employeeNumber)
            change(&a)
            return a
        }
        func grant(_ w: World, _ change: (inout UrpGrantRequest) -> Void) throws {
            var r = UrpGrantRequest(
                holder: w.trust.ann.username, urp: .supervisorSelfService, reason: "covers",
                orgUnits: ["Ward 5"], verifiedByLineManager: w.trust.mary.employeeNumber)
            change(&r)
            try w.trust.service.grantUrp(session: try w.trust.hscn(w.trust.adminA), request: r)
        }
        let email = { (w: World) in "staff\(w.trust.ann.employeeNumber)@nhs.net" }
        return [
            ("parseUsername", { _, s in _ = try parseUsername(text: s) }),
            ("maskMobileNumber", { _, s in _ = try maskMobileNumber(text: s) }),
            ("usernameStem.givenName", { _, s in _ = try usernameStem(givenName: s, surname: "Other") }),
            ("usernameStem.surname", { _, s in _ = try usernameStem(givenName: "Ann", surname: s) }),
            ("createTrust.vpd", { w, s in
                try w.trust.service.createTrust(
                    vpd: s, name: "Southfield",
                    options: TrustOptions(
                        automaticInternetAccess: true, upgradeManager: false, upgradeProfessional: false))
            }),
            ("createTrust.name", { w, s in
                try w.trust.service.createTrust(
                    vpd: "298", name: s,
                    options: TrustOptions(
                        automaticInternetAccess: true, upgradeManager: false, upgradeProfessional: false))
            }),
            ("addOrgUnit.vpd", { w, s in
                try w.trust.service.addOrgUnit(actor: feed, vpd: s, unit: "Ward 6", name: "Ward 6", parent: nil)
            }),
            ("addOrgUnit.unit", { w, s in
                try w.trust.service.addOrgUnit(actor: feed, vpd: vpd, unit: s, name: "Ward 6", parent: nil)
            }),
            ("addOrgUnit.name", { w, s in
                try w.trust.service.addOrgUnit(actor: feed, vpd: vpd, unit: "Ward 6", name: s, parent: nil)
            }),
            ("addOrgUnit.parent", { w, s in
                try w.trust.service.addOrgUnit(actor: feed, vpd: vpd, unit: "Ward 6", name: "Ward 6", parent: s)
            }),
            ("EsrActor.system.process", { w, s in
                try w.trust.service.addOrgUnit(
                    actor: .system(process: s), vpd: vpd, unit: "Ward 6", name: "Ward 6", parent: nil)
            }),
            ("addPerson.employeeNumber", { w, s in
                _ = try w.trust.service.addPerson(actor: feed, vpd: vpd, person: person { $0.employeeNumber = s })
            }),
            ("addPerson.givenName", { w, s in
                _ = try w.trust.service.addPerson(actor: feed, vpd: vpd, person: person { $0.givenName = s })
            }),
            ("addPerson.familyName", { w, s in
                _ = try w.trust.service.addPerson(actor: feed, vpd: vpd, person: person { $0.familyName = s })
            }),
            ("addPerson.recruitmentEmail", { w, s in
                _ = try w.trust.service.addPerson(
                    actor: feed, vpd: vpd, person: person { $0.recruitmentEmail = s })
            }),
            ("addAssignment.number", { w, s in
                _ = try w.trust.service.addAssignment(actor: feed, vpd: vpd, assignment: assignment(w) { $0.number = s })
            }),
            ("addAssignment.title", { w, s in
                _ = try w.trust.service.addAssignment(actor: feed, vpd: vpd, assignment: assignment(w) { $0.title = s })
            }),
            ("addAssignment.position", { w, s in
                _ = try w.trust.service.addAssignment(
                    actor: feed, vpd: vpd, assignment: assignment(w) { $0.position = s })
            }),
            ("addAssignment.orgUnit", { w, s in
                _ = try w.trust.service.addAssignment(actor: feed, vpd: vpd, assignment: assignment(w) { $0.orgUnit = s })
            }),
            ("addAssignment.supervisor", { w, s in
                _ = try w.trust.service.addAssignment(
                    actor: feed, vpd: vpd, assignment: assignment(w) { $0.supervisor = s })
            }),
            ("person.employeeNumber", { w, s in _ = try w.trust.service.person(vpd: vpd, employeeNumber: s) }),
            ("setPassword.username", { w, s in
                try w.trust.service.setPassword(actor: feed, username: s, password: "a new passphrase")
            }),
            ("setPassword.password", { w, s in
                try w.trust.service.setPassword(actor: feed, username: w.trust.ann.username, password: s)
            }),
            ("approveInternetAccess.username", { w, s in
                try w.trust.service.approveInternetAccess(actor: feed, username: s)
            }),
            ("logInWithSmartcard.username", { w, s in
                _ = try w.trust.service.logInWithSmartcard(username: s, cardId: "CARD-1")
            }),
            ("logInWithSmartcard.cardId", { w, s in
                _ = try w.trust.service.logInWithSmartcard(username: w.trust.ann.username, cardId: s)
            }),
            ("functionNamed.name", { _, s in _ = try functionNamed(name: s) }),
            ("urpNamed.name", { _, s in _ = try urpNamed(name: s) }),
            ("requestMobileCode.mobile", { w, s in _ = try w.trust.service.requestMobileCode(session: w.card, mobile: s) }),
            ("verifyPasscode.code", { w, s in
                _ = try w.trust.service.verifyPasscode(session: w.card, challenge: w.challenge, code: s)
            }),
            ("requestUsernameReminder.vpd", { w, s in
                _ = try w.trust.service.requestUsernameReminder(
                    vpd: s, email: email(w), dateOfBirth: TrustFixture.dateOfBirth)
            }),
            ("requestUsernameReminder.email", { w, s in
                _ = try w.trust.service.requestUsernameReminder(
                    vpd: vpd, email: s, dateOfBirth: TrustFixture.dateOfBirth)
            }),
            ("requestUnlockLink.email", { w, s in
                _ = try w.trust.service.requestUnlockLink(vpd: vpd, email: s, dateOfBirth: TrustFixture.dateOfBirth)
            }),
            ("resetPasswordWithLink.token", { w, s in
                _ = try w.trust.service.resetPasswordWithLink(token: s, password: "a new passphrase")
            }),
            ("unlockWithLink.token", { w, s in _ = try w.trust.service.unlockWithLink(token: s) }),
            ("Outbox.lastCodeTo", { w, s in _ = try w.trust.service.outbox().lastCodeTo(mobile: s) }),
            ("Outbox.lastSmsTo", { w, s in _ = try w.trust.service.outbox().lastSmsTo(mobile: s) }),
            ("Outbox.lastEmailTo", { w, s in _ = try w.trust.service.outbox().lastEmailTo(address: s) }),
            ("grantUrp.holder", { w, s in try grant(w) { $0.holder = s } }),
            ("grantUrp.reason", { w, s in try grant(w) { $0.reason = s } }),
            ("grantUrp.orgUnits", { w, s in try grant(w) { $0.orgUnits = [s] } }),
            ("grantUrp.verifiedByLineManager", { w, s in try grant(w) { $0.verifiedByLineManager = s } }),
            ("clearStepUpLock.reason", { w, s in
                try w.trust.service.clearStepUpLock(actor: feed, username: w.trust.ann.username, reason: s)
            }),
            ("defineCompetence.name", { w, s in
                try w.trust.service.defineCompetence(
                    actor: feed, vpd: vpd,
                    definition: CompetenceDefinition(name: s, refresherMonths: 12, active: true))
            }),
            ("certificationsFor.competence", { w, s in
                _ = try w.trust.service.certificationsFor(vpd: vpd, competence: s)
            }),
            ("competenceCatalogue.vpd", { w, s in _ = try w.trust.service.competenceCatalogue(vpd: s) }),
            ("subscribe.certification", { w, s in
                _ = try w.trust.service.subscribe(
                    actor: feed, vpd: vpd, employeeNumber: w.trust.ann.employeeNumber, certification: s)
            }),
            ("subscriptions.employeeNumber", { w, s in
                _ = try w.trust.service.subscriptions(actor: feed, vpd: vpd, employeeNumber: s)
            }),
        ]
    }()

    func testHostileStringsAreRefusedOrHarmless() throws {
        var world = try World.build()
        for (name, call) in Self.stringCases {
            for (label, value) in Self.strings {
                try probe(name, label, &world) { try call($0, value) }
            }
        }
        // A failed log-in is counted by design: a fresh trust after each refusal.
        for (label, value) in Self.strings {
            try probe("logInWithPassword.username", label, &world, statefulRefusal: true) {
                _ = try $0.trust.service.logInWithPassword(username: value, password: TrustFixture.password)
            }
            try probe("logInWithPassword.password", label, &world, statefulRefusal: true) {
                _ = try $0.trust.service.logInWithPassword(username: $0.trust.ann.username, password: value)
            }
        }
        XCTAssertEqual(probes, (Self.stringCases.count + 2) * Self.strings.count)
        XCTAssertGreaterThan(Self.stringCases.count, 40)
    }

    func testInvalidCalendarDatesAreRefused() throws {
        var world = try World.build()
        let vpd = TrustFixture.vpd
        for (label, date) in Self.invalidDates {
            try probe("addPerson.dateOfBirth", label, &world, mustRefuse: true) {
                _ = try $0.trust.service.addPerson(
                    actor: TrustFixture.feed, vpd: vpd,
                    person: NewPerson(
                        employeeNumber: "29700099", givenName: "Ann", familyName: "Other",
                        dateOfBirth: date, recruitmentEmail: "ann.other@nhs.net"))
            }
            try probe("myCompliance.asOf", label, &world, mustRefuse: true) {
                _ = try $0.trust.service.myCompliance(session: $0.card, asOf: date)
            }
            try probe("teamCompliance.asOf", label, &world, mustRefuse: true) {
                _ = try $0.trust.service.teamCompliance(session: try $0.trust.hscn($0.trust.mary), asOf: date)
            }
            try probe("requestUnlockLink.dateOfBirth", label, &world) {
                _ = try $0.trust.service.requestUnlockLink(
                    vpd: vpd, email: "staff\($0.trust.ann.employeeNumber)@nhs.net", dateOfBirth: date)
            }
        }
        for (label, date) in Self.extremeDates {
            try probe("addPerson.dateOfBirth", label, &world) {
                _ = try $0.trust.service.addPerson(
                    actor: TrustFixture.feed, vpd: vpd,
                    person: NewPerson(
                        employeeNumber: "29700099", givenName: "Ann", familyName: "Other",
                        dateOfBirth: date, recruitmentEmail: "ann.other@nhs.net"))
            }
            try probe("myCompliance.asOf", label, &world) {
                _ = try $0.trust.service.myCompliance(session: $0.card, asOf: date)
            }
            try probe("requestUsernameReminder.dateOfBirth", label, &world) {
                _ = try $0.trust.service.requestUsernameReminder(
                    vpd: vpd, email: "staff\($0.trust.ann.employeeNumber)@nhs.net", dateOfBirth: date)
            }
        }
        for (label, date) in Self.invalidDates + Self.extremeDates {
            try probe("recordCompetence.achieved", label, &world) {
                let competence = try XCTUnwrap(
                    try $0.trust.service.competenceCatalogue(vpd: vpd).first?.name)
                _ = try $0.trust.service.recordCompetence(
                    actor: TrustFixture.feed, vpd: vpd, employeeNumber: $0.trust.ann.employeeNumber,
                    record: NewCompetenceRecord(
                        competence: competence, achieved: date, expiry: .on(date: date), level: nil))
            }
        }
        XCTAssertEqual(probes, 4 * Self.invalidDates.count + 4 * Self.extremeDates.count + Self.invalidDates.count)
    }

    func testClockMovesPastItsRangeAreRefused() throws {
        var world = try World.build()
        for seconds in [Int64.max, Int64.min, 1 << 62, -(1 << 62)] {
            try probe("advanceClock", "\(seconds)", &world, mustRefuse: true) {
                try $0.trust.service.advanceClock(seconds: seconds)
            }
        }
        for seconds: Int64 in [0, -1, Int64(Int32.max), Int64(UInt32.max) + 1] {
            try probe("advanceClock", "\(seconds)", &world) {
                try $0.trust.service.advanceClock(seconds: seconds)
            }
        }
        // A clock on a real service cannot be moved at all.
        let real = try EsrService(
            passcodeKey: TrustFixture.passcodeKey, smsGateway: nil, emailGateway: nil)
        let message = assertEsrError({ if case .InvalidInput = $0 { true } else { false } }) {
            try real.advanceClock(seconds: 1)
        }
        XCTAssertTrue(message.contains("forTesting"), message)
    }

    /// With the test clock at an extreme instant, every call answers or throws an EsrError: no
    /// rule about time panics.
    func testEveryCallAnswersAtTheEndsOfTime() throws {
        for (label, instant) in Self.instants {
            let world = try World.build()
            let t = world.trust
            let s = t.service
            do {
                try s.setNow(instant: instant)
            } catch is EsrError {
                continue
            }
            probes += 1
            let calls: [(String, () throws -> Void)] = [
                ("now", { _ = s.now() }),
                ("ukToday", { _ = s.ukToday() }),
                ("logInWithPassword", { _ = try t.web(t.mary) }),
                ("logInWithSmartcard", { _ = try t.hscn(t.mary) }),
                ("sessionInfo", { _ = try s.sessionInfo(session: world.card) }),
                ("passcodeStatus", { _ = try s.passcodeStatus(session: world.card, challenge: world.challenge) }),
                ("verifyPasscode", {
                    _ = try s.verifyPasscode(session: world.card, challenge: world.challenge, code: "000000")
                }),
                ("resendPasscode", { _ = try s.resendPasscode(session: world.card, challenge: world.challenge) }),
                ("requestMobileCode", { _ = try s.requestMobileCode(session: world.card, mobile: "07700 900124") }),
                ("myCompliance", { _ = try s.myCompliance(session: world.card, asOf: nil) }),
                ("teamCompliance", { _ = try s.teamCompliance(session: try t.hscn(t.mary), asOf: nil) }),
                ("myElearning", { _ = try s.myElearning(session: world.card, mandatoryOnly: false) }),
                ("requestUnlockLink", {
                    _ = try s.requestUnlockLink(
                        vpd: TrustFixture.vpd, email: "staff\(t.ann.employeeNumber)@nhs.net",
                        dateOfBirth: TrustFixture.dateOfBirth)
                }),
                ("advanceClock", { try s.advanceClock(seconds: 86_400) }),
                ("logOut", { try s.logOut(session: world.card) }),
            ]
            for (name, call) in calls {
                do {
                    try call()
                } catch let error as EsrError {
                    XCTAssertLessThan(error.localizedDescription.count, 2_000, "\(name) at \(label)")
                } catch {
                    XCTFail("\(name) at \(label): not an EsrError (a Rust panic?): \(error)")
                }
            }
        }
        XCTAssertGreaterThan(probes, 0, "no extreme instant was accepted: nothing was tried")
    }

    func testBadKeysAreRefused() throws {
        for key in [Data(), Data(count: 31)] {
            assertEsrError({ if case .InvalidInput = $0 { true } else { false } }) {
                _ = try EsrService(passcodeKey: key, smsGateway: nil, emailGateway: nil)
            }
            assertEsrError({ if case .InvalidInput = $0 { true } else { false } }) {
                _ = try EsrService.forTesting(
                    passcodeKey: key, start: TrustFixture.start, smsGateway: nil, emailGateway: nil)
            }
        }
        // A huge key: refused or used, never a crash.
        do {
            _ = try EsrService(
                passcodeKey: Data(repeating: 0xff, count: 10_000_000), smsGateway: nil,
                emailGateway: nil)
        } catch let error as EsrError {
            XCTAssertLessThan(error.localizedDescription.count, 2_000)
        }
    }

    func testEmptyAndHugeListsAndExtremeCounts() throws {
        var world = try World.build()
        let vpd = TrustFixture.vpd
        try probe("bootstrapUserAdministrators.holders", "empty-list", &world, mustRefuse: true) {
            try $0.trust.service.bootstrapUserAdministrators(vpd: vpd, holders: [], reason: "again")
        }
        try probe("bootstrapUserAdministrators.holders", "huge-list", &world) {
            try $0.trust.service.bootstrapUserAdministrators(
                vpd: vpd, holders: Array(repeating: $0.trust.ann.username, count: 100_000),
                reason: "again")
        }
        for (label, units) in [("empty-list", [String]()), ("huge-list", Array(repeating: "Ward 5", count: 100_000))] {
            try probe("grantUrp.orgUnits", label, &world) {
                try $0.trust.service.grantUrp(
                    session: try $0.trust.hscn($0.trust.adminA),
                    request: UrpGrantRequest(
                        holder: $0.trust.ann.username, urp: .supervisorSelfService, reason: "covers",
                        orgUnits: units, verifiedByLineManager: $0.trust.mary.employeeNumber))
            }
        }
        for months: UInt32 in [0, UInt32.max] {
            try probe("defineCompetence.refresherMonths", "\(months)", &world) {
                try $0.trust.service.defineCompetence(
                    actor: TrustFixture.feed, vpd: vpd,
                    definition: CompetenceDefinition(
                        name: "297|LOCAL|Hostile \(months)|", refresherMonths: months, active: true))
            }
        }
        for days: UInt32 in [0, UInt32.max] {
            for (label, components) in [
                ("no-components", [ComponentDefinition]()),
                ("one-component", [ComponentDefinition(course: "297 Course", kind: .course, classes: ["e-Learning"])]),
                ("huge-classes", [ComponentDefinition(
                    course: "297 Course", kind: .course,
                    classes: Array(repeating: "e-Learning", count: 100_000))]),
            ] {
                try probe("defineCertification", "days=\(days), \(label)", &world) {
                    let competence = try XCTUnwrap(
                        try $0.trust.service.competenceCatalogue(vpd: vpd).first?.name)
                    try $0.trust.service.defineCertification(
                        actor: TrustFixture.feed, vpd: vpd,
                        certification: CertificationDefinition(
                            name: "297 Hostile", competence: competence, level: nil,
                            validityDays: days, completionWindowDays: days,
                            renewal: RenewalRule(windowDays: days, base: .completionDate),
                            mandatory: false, components: components, completionRule: .allComponents))
                }
            }
        }
        XCTAssertEqual(probes, 2 + 2 + 2 + 6)
    }
}
