import Esr
import Foundation
import XCTest

/// Notifications and approvals (issue 22): a payroll change held for the manager's own line
/// manager and approved once, refusals, and the internet showing only the count.
final class NotificationTests: XCTestCase {
    func testAPayrollChangeWaitsForTheManagersOwnLineManager() throws {
        let t = try TrustFixture.build()
        let mary = try t.hscn(t.mary)
        let held = try XCTUnwrap(
            try t.service.requestAssignmentChange(
                session: mary,
                employeeNumber: t.ann.employeeNumber,
                assignment: t.ann.employeeNumber,
                change: .hours(weeklyMinutes: 2250)
            ),
            "Payroll Approvals Required holds the change"
        )
        XCTAssertEqual(held.status, "pending")
        XCTAssertEqual(held.approver, t.director.employeeNumber)

        let director = try t.hscn(t.director)
        XCTAssertEqual(try t.service.notificationCount(session: director), 1)
        let items = try t.service.notifications(
            session: director, openOnly: true, kind: "record_change_to_approve")
        XCTAssertEqual(items.count, 1)
        let item = items[0]
        XCTAssertEqual(item.actions, ["approve", "reject"])
        XCTAssertEqual(item.item, held.id)

        // Only the director may act on it.
        let ann = try t.hscn(t.ann)
        assertEsrError({ if case .NotPermitted = $0 { true } else { false } }) {
            _ = try t.service.actOnNotification(
                session: ann, notification: item.id, action: .approve)
        }
        // Over the internet without an upgrade, only the count shows.
        let web = try t.web(t.director)
        XCTAssertEqual(try t.service.notificationCount(session: web), 1)
        XCTAssertEqual(try t.service.notifications(session: web), [])

        let done = try t.service.actOnNotification(
            session: director, notification: item.id, action: .approve)
        XCTAssertEqual(done.state, "actioned")
        XCTAssertEqual(
            try t.service.pendingChange(session: director, change: held.id).status, "applied")
        assertEsrError({ if case .Conflict = $0 { true } else { false } }) {
            _ = try t.service.actOnNotification(
                session: director, notification: item.id, action: .approve)
        }
        let told = try t.service.notifications(session: ann, openOnly: true)
        XCTAssertEqual(told.map(\.kind), ["record_changed"])
    }

    func testARejectionKeepsItsReason() throws {
        let t = try TrustFixture.build()
        let mary = try t.hscn(t.mary)
        let held = try XCTUnwrap(
            try t.service.requestAssignmentChange(
                session: mary,
                employeeNumber: t.ann.employeeNumber,
                assignment: t.ann.employeeNumber,
                change: .end(endedOn: CalendarDate(year: 2026, month: 12, day: 31))
            ))
        let director = try t.hscn(t.director)
        let item = try t.service.notifications(session: director, openOnly: true)[0]
        _ = try t.service.actOnNotification(
            session: director, notification: item.id,
            action: .reject(reason: "still needed on the ward"))
        let change = try t.service.pendingChange(session: mary, change: held.id)
        XCTAssertEqual(change.status, "rejected")
        XCTAssertEqual(change.reason, "still needed on the ward")
    }

    func testAHeldDetailsChangeExpiresUnapproved() throws {
        let t = try TrustFixture.build()
        // Bernard gets Administrator Self Service (Approvals Required) for Ward 5.
        try t.service.grantUrp(
            session: try t.hscn(t.adminA),
            request: UrpGrantRequest(
                holder: t.adminB.username,
                urp: .administratorSelfServiceApprovalsRequired,
                reason: "Ward 5 HR office",
                orgUnits: ["Ward 5"],
                verifiedByLineManager: nil,
                caldicottGuardian: t.director.employeeNumber,
                caldicottReference: "CG-2026-002"
            )
        )
        let bernard = try t.hscn(t.adminB)
        let held = try XCTUnwrap(
            try t.service.requestDetailsChange(
                session: bernard, employeeNumber: t.ann.employeeNumber, familyName: "Smith"),
            "Approvals Required holds the change for Ann's line manager"
        )
        XCTAssertEqual(held.status, "pending")
        XCTAssertEqual(held.approver, t.mary.employeeNumber)
        XCTAssertEqual(
            try t.service.person(vpd: TrustFixture.vpd, employeeNumber: t.ann.employeeNumber)
                .familyName, "Able")

        // Nothing expires early; after the trust's 14 days the change expires and never applies.
        let nightly = EsrActor.system(process: "nightly")
        XCTAssertEqual(try t.service.expirePendingChanges(actor: nightly, vpd: TrustFixture.vpd), 0)
        try t.service.advanceClock(seconds: 15 * 24 * 3600)
        XCTAssertEqual(try t.service.expirePendingChanges(actor: nightly, vpd: TrustFixture.vpd), 1)
        let mary = try t.hscn(t.mary)
        XCTAssertEqual(
            try t.service.pendingChange(session: mary, change: held.id).status, "expired")
        XCTAssertEqual(
            try t.service.person(vpd: TrustFixture.vpd, employeeNumber: t.ann.employeeNumber)
                .familyName, "Able")
    }
}
