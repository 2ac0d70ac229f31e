import Esr
import Foundation
import XCTest

/// My Compliance, Team Compliance and My e-Learning, and a certification turning a Red
/// Conflict Resolution row Green: subscribe, enrol, play (progress, complete, fail, pass).
final class ComplianceLearningTests: XCTestCase {
    static let certification = "297 Core Skills - NHS Conflict Resolution - 3 Years"
    static let part1 = "297 NHS Conflict Resolution - Part 1"
    static let assessment = "297 NHS Conflict Resolution - eAssessment"
    static let eLearning = "e-Learning"
    static let learning = EsrActor.system(process: "learning and development team")

    private var trust: TrustFixture!
    private var conflict = ""

    private var service: EsrService { trust.service }
    private var vpd: String { TrustFixture.vpd }

    override func setUpWithError() throws {
        trust = try TrustFixture.build()
        let names = try service.competenceCatalogue(vpd: vpd).map(\.name)
            .filter { $0.contains("NHS Conflict Resolution (England) - 3 Years") }
        XCTAssertEqual(names.count, 1, "\(names)")
        conflict = try XCTUnwrap(names.first)
        try service.setRequirement(
            actor: Self.learning, vpd: vpd, competence: conflict,
            target: .orgUnit(unit: "Ward 5"), essential: true)
        try service.defineCertification(
            actor: Self.learning,
            vpd: vpd,
            certification: CertificationDefinition(
                name: Self.certification,
                competence: conflict,
                level: "1 - Assessed",
                validityDays: 1095,
                completionWindowDays: 1095,
                renewal: RenewalRule(windowDays: 90, base: .previousExpiry),
                mandatory: true,
                components: [
                    ComponentDefinition(course: Self.part1, kind: .course, classes: [Self.eLearning]),
                    ComponentDefinition(
                        course: Self.assessment, kind: .eAssessment, classes: [Self.eLearning]),
                ],
                completionRule: .allComponents
            )
        )
    }

    /// Ann's Conflict Resolution row on My Compliance.
    private func annRow() throws -> ComplianceRow {
        let mine = try service.myCompliance(session: try trust.hscn(trust.ann), asOf: nil)
        let assignment = try XCTUnwrap(mine.assignments.first)
        return try XCTUnwrap(assignment.rows.first { $0.competence == conflict })
    }

    func testMyComplianceAndTeamComplianceShowTheMissingCompetence() throws {
        let mine = try service.myCompliance(session: try trust.hscn(trust.ann), asOf: nil)
        XCTAssertEqual(mine.employeeNumber, trust.ann.employeeNumber)
        XCTAssertEqual(mine.asOf, CalendarDate(year: 2026, month: 11, day: 22))
        XCTAssertEqual(mine.summary.essential, 1)
        XCTAssertEqual(mine.summary.red, 1)
        XCTAssertEqual(mine.summary.percent, 0)
        let assignment = try XCTUnwrap(mine.assignments.first)
        XCTAssertEqual(assignment.orgUnit, "Ward 5")
        let row = try annRow()
        XCTAssertEqual(row.need, .essential)
        XCTAssertFalse(row.held)
        XCTAssertEqual(row.status, .red)

        let team = try service.teamCompliance(session: try trust.hscn(trust.mary), asOf: nil)
        XCTAssertEqual(team.members.map(\.employeeNumber), [trust.ann.employeeNumber])
        let ann = try XCTUnwrap(team.members.first)
        XCTAssertEqual(ann.familyName, "Able")
        XCTAssertEqual(ann.depth, 1)
        XCTAssertEqual(ann.compliance.counts.red, 1)

        // Ann manages nobody: Team Compliance is not hers.
        assertEsrError({ if case .NotPermitted = $0 { true } else { false } }) {
            _ = try service.teamCompliance(session: try trust.hscn(trust.ann), asOf: nil)
        }
    }

    func testACertificationTurnsTheRowGreen() throws {
        let session = try trust.hscn(trust.ann)
        let me = EsrActor.user(session: session)
        let number = trust.ann.employeeNumber

        XCTAssertEqual(
            try service.certificationsFor(vpd: vpd, competence: conflict).map(\.name),
            [Self.certification])
        assertEsrError({ if case .LearningRefused = $0 { true } else { false } }) {
            _ = try service.enrol(
                actor: me, vpd: vpd, employeeNumber: number, certification: Self.certification,
                course: Self.part1, className: Self.eLearning)
        }

        let subscription = try service.subscribe(
            actor: me, vpd: vpd, employeeNumber: number, certification: Self.certification)
        XCTAssertEqual(subscription.cycle, 1)
        XCTAssertEqual(subscription.subscribedOn, CalendarDate(year: 2026, month: 11, day: 22))
        XCTAssertEqual(
            subscription.status,
            .subscribed(due: CalendarDate(year: 2029, month: 11, day: 21), overdue: false))

        let part1 = try service.enrol(
            actor: me, vpd: vpd, employeeNumber: number, certification: Self.certification,
            course: Self.part1, className: Self.eLearning)
        XCTAssertEqual(part1.performance, .notAttempted)
        let halfway = try service.play(
            actor: me, vpd: vpd, employeeNumber: number, certification: Self.certification,
            course: Self.part1, result: .progress(percent: 40))
        XCTAssertEqual(halfway.enrolment.performance, .inProgress)
        XCTAssertEqual(halfway.enrolment.progress, 40)
        let completed = try service.play(
            actor: me, vpd: vpd, employeeNumber: number, certification: Self.certification,
            course: Self.part1, result: .completed)
        XCTAssertEqual(completed.enrolment.performance, .completed)
        XCTAssertNil(completed.awarded)
        XCTAssertEqual(try annRow().status, .red)

        _ = try service.enrol(
            actor: me, vpd: vpd, employeeNumber: number, certification: Self.certification,
            course: Self.assessment, className: Self.eLearning)
        let failed = try service.play(
            actor: me, vpd: vpd, employeeNumber: number, certification: Self.certification,
            course: Self.assessment, result: .failed(score: 40))
        XCTAssertEqual(failed.enrolment.performance, .failed)
        XCTAssertNil(failed.awarded)
        let passed = try service.play(
            actor: me, vpd: vpd, employeeNumber: number, certification: Self.certification,
            course: Self.assessment, result: .passed(score: 90))
        XCTAssertEqual(passed.enrolment.performance, .passed)
        XCTAssertEqual(passed.enrolment.score, 90)
        XCTAssertEqual(passed.enrolment.attempts, 2)
        let awarded = try XCTUnwrap(passed.awarded)
        XCTAssertEqual(awarded.competence, conflict)
        XCTAssertEqual(awarded.level, "1 - Assessed")
        XCTAssertEqual(awarded.expiry, CalendarDate(year: 2029, month: 11, day: 21))

        let row = try annRow()
        XCTAssertEqual(row.status, .green)
        XCTAssertTrue(row.held)
        XCTAssertEqual(
            try service.myCompliance(session: session, asOf: nil).summary.percent, 100)

        let now = try XCTUnwrap(
            service.subscriptions(actor: me, vpd: vpd, employeeNumber: number).first)
        XCTAssertEqual(
            now.status,
            .certified(
                expiry: CalendarDate(year: 2029, month: 11, day: 21),
                windowOpens: CalendarDate(year: 2029, month: 8, day: 23)))
        XCTAssertEqual(now.enrolments.count, 2)

        let learning = try service.myElearning(session: session, mandatoryOnly: false)
        XCTAssertEqual(learning.map(\.course), [Self.assessment, Self.part1])
        XCTAssertEqual(learning.map(\.performance), [.passed, .completed])
        XCTAssertEqual(try service.myElearning(session: session, mandatoryOnly: true).count, 2)

        // As of a day after the award expires, the row is no longer Green.
        let later = try service.myCompliance(
            session: session, asOf: CalendarDate(year: 2029, month: 11, day: 22))
        let laterRow = try XCTUnwrap(
            later.assignments.first?.rows.first { $0.competence == conflict })
        XCTAssertNotEqual(laterRow.status, .green)
    }

    func testOnlyLearningAdministrationSubscribesSomeoneElse() throws {
        let me = EsrActor.user(session: try trust.hscn(trust.ann))
        assertEsrError({ if case .NotPermitted = $0 { true } else { false } }) {
            _ = try service.subscribe(
                actor: me, vpd: vpd, employeeNumber: trust.mary.employeeNumber,
                certification: Self.certification)
        }
        assertEsrError({ if case .InvalidInput = $0 { true } else { false } }) {
            _ = try service.subscribe(
                actor: .system(process: ""), vpd: vpd, employeeNumber: trust.mary.employeeNumber,
                certification: Self.certification)
        }
    }

    func testUnsubscribingCancels() throws {
        let me = EsrActor.user(session: try trust.hscn(trust.ann))
        let number = trust.ann.employeeNumber
        _ = try service.subscribe(
            actor: me, vpd: vpd, employeeNumber: number, certification: Self.certification)
        try service.unsubscribe(
            actor: me, vpd: vpd, employeeNumber: number, certification: Self.certification)
        let status = try XCTUnwrap(
            service.subscriptions(actor: me, vpd: vpd, employeeNumber: number).first?.status)
        XCTAssertEqual(status, .cancelled(on: CalendarDate(year: 2026, month: 11, day: 22)))
    }

    func testARecordedCompetenceCountsToo() throws {
        let record = try service.recordCompetence(
            actor: Self.learning,
            vpd: vpd,
            employeeNumber: trust.ann.employeeNumber,
            record: NewCompetenceRecord(
                competence: conflict,
                achieved: CalendarDate(year: 2026, month: 11, day: 1),
                expiry: .refresher,
                level: nil
            )
        )
        XCTAssertEqual(record.employeeNumber, trust.ann.employeeNumber)
        XCTAssertEqual(record.expiry, CalendarDate(year: 2029, month: 11, day: 1))
        XCTAssertEqual(try annRow().status, .green)
    }
}
