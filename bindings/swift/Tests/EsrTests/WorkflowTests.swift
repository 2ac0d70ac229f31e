import Esr
import Foundation
import XCTest

/// The three workflows of issue 22 from Swift: an access request from raising to the grant, the
/// six-monthly URP review, and competences a learner claims for approval; with refusals.
final class WorkflowTests: XCTestCase {
    static let extra = Urp.managerSelfServicePayrollApprovalsNotRequired
    static let finance = EsrActor.system(process: "finance feed")

    func testAnAccessRequestFromRaisingToTheGrant() throws {
        let t = try TrustFixture.build()
        let ann = try t.hscn(t.ann)
        var request = try t.service.requestAccess(
            actor: .user(session: ann),
            request: NewAccessRequest(
                subject: t.ann.username, urp: Self.extra, reason: "covers Mary's leave"))
        XCTAssertEqual(request.status, "awaiting_authorisation")
        XCTAssertEqual(request.route, "line_manager")
        XCTAssertEqual(request.missingPrerequisites, ["as_number"])
        XCTAssertEqual(try t.service.myAccessRequests(session: ann).map(\.id), [request.id])

        // Ann may not authorise her own request; Mary, her line manager, does.
        assertEsrError({ if case .NotPermitted = $0 { true } else { false } }) {
            _ = try t.service.authoriseAccessRequest(session: ann, request: request.id)
        }
        let mary = try t.hscn(t.mary)
        XCTAssertEqual(
            try t.service.accessRequestsToAuthorise(session: mary).map(\.id), [request.id])
        request = try t.service.authoriseAccessRequest(session: mary, request: request.id)
        XCTAssertEqual(request.status, "authorised")
        XCTAssertEqual(request.decidedBy, t.mary.employeeNumber)

        // No grant before Finance's AS number is recorded.
        let admin = try t.hscn(t.adminA)
        XCTAssertEqual(
            try t.service.accessRequestsToGrant(session: admin).map(\.id), [request.id])
        assertEsrError({ _ in true }) {
            _ = try t.service.grantAccessRequest(session: admin, request: request.id)
        }
        request = try t.service.recordAccessPrerequisite(
            actor: Self.finance, vpd: TrustFixture.vpd, request: request.id,
            prerequisite: .asNumber, reference: "AS123456")
        XCTAssertEqual(request.missingPrerequisites, [])
        XCTAssertEqual(request.prerequisites.map(\.reference), ["AS123456"])

        let grant = try t.service.grantAccessRequest(session: admin, request: request.id)
        request = try t.service.accessRequest(
            actor: .user(session: ann), vpd: TrustFixture.vpd, request: request.id)
        XCTAssertEqual(request.status, "granted")
        XCTAssertEqual(request.grant, grant)
        XCTAssertEqual(try t.service.accessRequestsToGrant(session: admin), [])
    }

    func testARejectionNeedsAReasonAndKeepsIt() throws {
        let t = try TrustFixture.build()
        let ann = try t.hscn(t.ann)
        let raised = try t.service.requestAccess(
            actor: .user(session: ann),
            request: NewAccessRequest(
                subject: t.ann.username, urp: Self.extra, reason: "covers Mary's leave"))
        let mary = try t.hscn(t.mary)
        assertEsrError({ if case .InvalidInput = $0 { true } else { false } }) {
            _ = try t.service.rejectAccessRequest(session: mary, request: raised.id, reason: "")
        }
        let rejected = try t.service.rejectAccessRequest(
            session: mary, request: raised.id, reason: "Ben covers instead")
        XCTAssertEqual(rejected.status, "rejected")
        XCTAssertEqual(rejected.rejectionReason, "Ben covers instead")
        assertEsrError({ _ in true }) {
            _ = try t.service.authoriseAccessRequest(session: mary, request: raised.id)
        }
    }

    func testAUrpReviewFromOpeningToCompletion() throws {
        let t = try TrustFixture.build()
        let adminA = try t.hscn(t.adminA)
        let adminB = try t.hscn(t.adminB)
        var review = try t.service.openUrpReview(session: adminA)
        XCTAssertFalse(review.complete)
        XCTAssertEqual(Int(review.undecided), review.items.count)
        XCTAssertEqual(
            try t.service.urpReviewStatus(actor: .user(session: adminA), vpd: TrustFixture.vpd)
                .open, review.id)
        assertEsrError({ if case .Conflict = $0 { true } else { false } }) {
            _ = try t.service.openUrpReview(session: adminA)
        }
        let marys = try XCTUnwrap(review.items.first { $0.holder == t.mary.username })
        assertEsrError({ if case .NotPermitted = $0 { true } else { false } }) {
            _ = try t.service.confirmUrpGrant(
                session: try t.hscn(t.ann), review: review.id, grant: marys.grant)
        }
        for item in review.items where item.grant != marys.grant {
            // An administrator does not confirm their own grant.
            let who = item.holder == t.adminA.username ? adminB : adminA
            review = try t.service.confirmUrpGrant(session: who, review: review.id, grant: item.grant)
        }
        review = try t.service.revokeUrpInReview(
            session: adminA, review: review.id, grant: marys.grant, reason: "moved to Ward 9")
        XCTAssertTrue(review.complete)
        XCTAssertEqual(review.undecided, 0)
        let decided = try XCTUnwrap(review.items.first { $0.grant == marys.grant })
        XCTAssertEqual(decided.decision, "revoked")
        XCTAssertEqual(decided.reason, "moved to Ward 9")
        let status = try t.service.urpReviewStatus(
            actor: .user(session: adminA), vpd: TrustFixture.vpd)
        XCTAssertNil(status.open)
        XCTAssertFalse(status.overdue)
        XCTAssertEqual(
            try t.service.urpReviews(actor: .user(session: adminA), vpd: TrustFixture.vpd)
                .map(\.id), [review.id])
    }

    func testAnExceptionGoesToTheCaldicottGuardian() throws {
        let t = try TrustFixture.build()
        let ann = try t.hscn(t.ann)
        let exceptional = NewAccessRequest(
            subject: t.ann.username, urp: Self.extra, reason: "runs Ward 6 nights",
            exception: "Ward 6 has no manager")
        // No guardian named yet: refused, nothing raised.
        assertEsrError({ if case .InvalidInput = $0 { true } else { false } }) {
            _ = try t.service.requestAccess(actor: .user(session: ann), request: exceptional)
        }
        XCTAssertEqual(try t.service.myAccessRequests(session: ann), [])
        try t.service.setCaldicottGuardian(
            actor: .user(session: try t.hscn(t.adminA)), vpd: TrustFixture.vpd,
            guardian: t.director.employeeNumber)
        let raised = try t.service.requestAccess(actor: .user(session: ann), request: exceptional)
        XCTAssertEqual(raised.route, "caldicott_guardian")
        XCTAssertEqual(raised.exception, "Ward 6 has no manager")
        let director = try t.hscn(t.director)
        XCTAssertEqual(
            try t.service.accessRequestsToAuthorise(session: director).map(\.id), [raised.id])
        let authorised = try t.service.authoriseAccessRequest(session: director, request: raised.id)
        XCTAssertEqual(authorised.decidedBy, t.director.employeeNumber)
    }

    func testAClaimedCompetenceApprovedAndAnotherRejected() throws {
        let t = try TrustFixture.build()
        func named(_ title: String) throws -> String {
            let names = try t.service.competenceCatalogue(vpd: TrustFixture.vpd).map(\.name)
                .filter { $0.contains(title) }
            XCTAssertEqual(names.count, 1, "\(names)")
            return try XCTUnwrap(names.first)
        }
        let fire = try named("Fire Safety - 1 Year")
        let ig = try named("Information Governance - 1 Year")
        let ann = try t.hscn(t.ann)
        let achieved = CalendarDate(year: 2026, month: 11, day: 19)
        let first = try t.service.claimCompetence(
            session: ann,
            record: NewCompetenceRecord(
                competence: fire, achieved: achieved, expiry: .refresher, level: nil),
            evidence: "certificate FS-42")
        let second = try t.service.claimCompetence(
            session: ann,
            record: NewCompetenceRecord(
                competence: ig, achieved: achieved, expiry: .refresher, level: nil),
            evidence: "e-learning at my last trust")
        XCTAssertEqual(first.state, "awaiting_approval")
        XCTAssertEqual(first.employeeNumber, t.ann.employeeNumber)

        let mary = try t.hscn(t.mary)
        XCTAssertEqual(
            Set(try t.service.competenceClaimsToApprove(session: mary).map(\.id)),
            [first.id, second.id])
        assertEsrError({ if case .NotPermitted = $0 { true } else { false } }) {
            _ = try t.service.approveCompetenceClaim(session: ann, claim: first.id)
        }
        assertEsrError({ if case .InvalidInput = $0 { true } else { false } }) {
            _ = try t.service.rejectCompetenceClaim(session: mary, claim: second.id, reason: "")
        }
        let approved = try t.service.approveCompetenceClaim(session: mary, claim: first.id)
        XCTAssertEqual(approved.state, "approved")
        XCTAssertEqual(approved.decidedBy, t.mary.username)
        let rejected = try t.service.rejectCompetenceClaim(
            session: mary, claim: second.id, reason: "not an NHS course")
        XCTAssertEqual(rejected.state, "rejected")
        XCTAssertEqual(rejected.reason, "not an NHS course")
        XCTAssertEqual(
            try t.service.competencesAwaitingApproval(
                actor: .user(session: ann), vpd: TrustFixture.vpd,
                employeeNumber: t.ann.employeeNumber), [])
        assertEsrError({ if case .Conflict = $0 { true } else { false } }) {
            _ = try t.service.approveCompetenceClaim(session: mary, claim: second.id)
        }
        let claims = try t.service.competenceClaimsOf(
            actor: .user(session: ann), vpd: TrustFixture.vpd,
            employeeNumber: t.ann.employeeNumber)
        XCTAssertEqual(claims.count, 2)
        for claim in claims {
            XCTAssertEqual(claim.state, claim.id == first.id ? "approved" : "rejected")
        }
        // Fire Safety now counts on Ann's My Compliance; the rejected claim recorded nothing.
        let mine = try t.service.myCompliance(session: ann, asOf: nil)
        for assignment in mine.assignments {
            XCTAssertFalse(assignment.rows.contains { $0.competence == ig && $0.status == .green })
        }
    }
}
