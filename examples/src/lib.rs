//! A deterministic NHS trust for demonstrations and benchmarks: directorates, wards, a line
//! management chain from the chief executive to every member of staff, URPs granted with their
//! line manager's verification, all from a fixed seed.

use esr_core::chrono::NaiveDate;
use esr_core::{
    Actor, Clock, EmployeeNumber, Esr, OrgUnitId, SessionId, Store, Username, VpdCode,
    access::SmartcardAuthentication, people::NewAssignment, people::NewPerson, people::PersonName,
    urp::Approval, urp::GrantRequest, urp::GrantScope, urp::Urp,
};
use rand_chacha::ChaCha8Rng;
use rand_core::{Rng, SeedableRng};
use std::collections::BTreeSet;

// Compliance
pub mod two_processes;
mod workforce;
pub use workforce::{
    CSTF_BASE, ROLE_BASE, ROLE_COMPETENCES, Workforce, WorkforceSpec, generate_workforce,
};

/// Given names, with a few that test the username rule.
const GIVEN: &[&str] = &[
    "Emma", "Olivia", "Amelia", "Isla", "Ava", "Mia", "Grace", "Sophie", "Priya", "Aisha", "Zoë",
    "Siân", "Niamh", "Chloé", "Fatima", "Oliver", "George", "Harry", "Jack", "Noah", "Mohammed",
    "Arjun", "Seán", "Dafydd", "Tomasz", "Kwame", "Chen", "James", "John", "Joanne", "Li",
];

/// Surnames, with apostrophes, hyphens, accents, very short and very long ones.
const SURNAMES: &[&str] = &[
    "Smith",
    "Jones",
    "Taylor",
    "Brown",
    "Williams",
    "Wilson",
    "Johnson",
    "Davies",
    "Patel",
    "Khan",
    "Conroy",
    "O'Brien",
    "Smith-Jones",
    "Ng",
    "Nowak",
    "Mensah",
    "Ó Súilleabháin",
    "Evans",
    "Thomas",
    "Roberts",
    "Walker",
    "Wright",
    "Robinson",
    "Thompson",
    "Hughes",
    "Ahmed",
    "Edwards",
    "Green",
    "Lewis",
    "Hall",
    "Featherstonehaugh-Cholmondeley",
    "Begum",
    "Clarke",
];

const DIRECTORATES: &[&str] = &[
    "Medicine",
    "Surgery",
    "Women and Children",
    "Community Services",
];

/// What to build.
#[derive(Debug, Clone)]
pub struct TrustSpec {
    /// The trust's VPD code.
    pub vpd: VpdCode,
    /// Its name.
    pub name: String,
    /// How many members of staff on the wards (managers and corporate staff come on top).
    pub ward_staff: usize,
    /// Staff per ward.
    pub ward_size: usize,
    /// The seed: the same seed builds the same trust.
    pub seed: u64,
}

/// One person as built, for the caller to pick people to demonstrate with.
#[derive(Debug, Clone)]
pub struct Member {
    /// Employee number.
    pub employee_number: EmployeeNumber,
    /// Username.
    pub username: Username,
    /// Name as ESR prints it.
    pub name: String,
    /// Ward or department.
    pub unit: OrgUnitId,
}

/// What was built, and who is who.
#[derive(Debug, Clone)]
pub struct BuiltTrust {
    /// The trust.
    pub vpd: VpdCode,
    /// Chief executive.
    pub chief_executive: Member,
    /// The Caldicott guardian, who approves access exceptions.
    pub caldicott_guardian: Member,
    /// The two user administrators (Local HRMS Systems and User Administration).
    pub user_admins: [Member; 2],
    /// Directors, one per directorate.
    pub directors: Vec<Member>,
    /// Ward managers, one per ward.
    pub ward_managers: Vec<Member>,
    /// Everyone else on the wards.
    pub staff: Vec<Member>,
    /// The wards.
    pub wards: Vec<OrgUnitId>,
    /// People who hold a second assignment on another ward.
    pub second_assignments: usize,
}

impl BuiltTrust {
    /// Everyone built.
    pub fn everyone(&self) -> impl Iterator<Item = &Member> {
        [&self.chief_executive, &self.caldicott_guardian]
            .into_iter()
            .chain(self.user_admins.iter())
            .chain(self.directors.iter())
            .chain(self.ward_managers.iter())
            .chain(self.staff.iter())
    }
}

/// Builds a trust as `spec` says into `esr`, through the library's public operations only:
/// the trust, its hierarchy, its people (through a recruitment feed), assignments with
/// supervisors, two bootstrapped user administrators, and manager URPs granted from an HSCN
/// session with each manager's line manager's verification.
pub fn build_trust<S: Store, C: Clock>(
    esr: &Esr<S, C>,
    spec: &TrustSpec,
    settings: esr_core::org::TrustSettings,
) -> esr_core::Result<BuiltTrust> {
    let mut rng = ChaCha8Rng::seed_from_u64(spec.seed);
    let vpd = spec.vpd;
    esr.create_trust(vpd, &spec.name, settings)?;
    let setup = Actor::system("trust set-up")?;
    let feed = Actor::system("recruitment feed")?;

    let unit = |s: &str| s.parse::<OrgUnitId>();
    let board = unit("Trust Board")?;
    let corporate = unit("Corporate Services")?;
    esr.add_org_unit(&setup, vpd, board.clone(), "Trust Board", None)?;
    esr.add_org_unit(
        &setup,
        vpd,
        corporate.clone(),
        "Corporate Services",
        Some(board.clone()),
    )?;
    for dept in ["Workforce", "Digital"] {
        esr.add_org_unit(&setup, vpd, unit(dept)?, dept, Some(corporate.clone()))?;
    }
    let wards_needed = spec.ward_staff.div_ceil(spec.ward_size.max(1)).max(1);
    let mut wards = Vec::new();
    for d in DIRECTORATES {
        esr.add_org_unit(
            &setup,
            vpd,
            unit(d)?,
            &format!("{d} Directorate"),
            Some(board.clone()),
        )?;
    }
    for w in 0..wards_needed {
        let d = DIRECTORATES[w % DIRECTORATES.len()];
        let id = unit(&format!("{d} Ward {}", w / DIRECTORATES.len() + 1))?;
        esr.add_org_unit(&setup, vpd, id.clone(), id.as_str(), Some(unit(d)?))?;
        wards.push(id);
    }

    let mut next = 0u32;
    let mut hire = |rng: &mut ChaCha8Rng,
                    title: &str,
                    unit: &OrgUnitId,
                    supervisor: Option<&esr_core::AssignmentNumber>|
     -> esr_core::Result<(Member, esr_core::AssignmentNumber)> {
        next += 1;
        let given = GIVEN[rng.next_u32() as usize % GIVEN.len()];
        let family = SURNAMES[rng.next_u32() as usize % SURNAMES.len()];
        let employee_number: EmployeeNumber = format!("{}", 20_000_000 + next).parse()?;
        let dob = NaiveDate::from_ymd_opt(1960, 1, 1)
            .and_then(|d| {
                d.checked_add_days(esr_core::chrono::Days::new(u64::from(
                    rng.next_u32() % 16_000,
                )))
            })
            .ok_or_else(|| esr_core::Error::InvalidInput {
                what: "date of birth",
                reason: "out of range".into(),
            })?;
        let ascii: String = format!("{given}.{family}")
            .chars()
            .filter(|c| c.is_ascii_alphabetic() || *c == '.')
            .collect::<String>()
            .to_lowercase();
        let person = esr.add_person(
            &feed,
            vpd,
            NewPerson {
                employee_number: employee_number.clone(),
                name: PersonName::new(given, family)?,
                date_of_birth: dob,
                recruitment_email: format!("{ascii}{next}@nhs.net").parse()?,
            },
        )?;
        let number: esr_core::AssignmentNumber = format!("{}", 30_000_000 + next).parse()?;
        esr.add_assignment(
            &feed,
            vpd,
            NewAssignment {
                number: number.clone(),
                employee_number: employee_number.clone(),
                title: title.to_owned(),
                position: format!("{vpd}|{title}|").parse()?,
                org_unit: unit.clone(),
                supervisor: supervisor.cloned(),
            },
        )?;
        Ok((
            Member {
                employee_number,
                username: person.username,
                name: person.name.to_string(),
                unit: unit.clone(),
            },
            number,
        ))
    };

    let (chief_executive, ceo_a) = hire(&mut rng, "Chief Executive", &board, None)?;
    let (admin1, _) = hire(
        &mut rng,
        "ESR Systems Manager",
        &unit("Workforce")?,
        Some(&ceo_a),
    )?;
    let (admin2, _) = hire(
        &mut rng,
        "ESR Systems Analyst",
        &unit("Digital")?,
        Some(&ceo_a),
    )?;
    let (guardian, _) = hire(
        &mut rng,
        "Medical Director and Caldicott Guardian",
        &board,
        Some(&ceo_a),
    )?;
    let mut directors = Vec::new();
    let mut director_assignments = Vec::new();
    for d in DIRECTORATES {
        let (m, a) = hire(&mut rng, "Divisional Director", &unit(d)?, Some(&ceo_a))?;
        directors.push((m, ceo_a.clone()));
        director_assignments.push(a);
    }
    let mut ward_managers = Vec::new();
    let mut staff = Vec::new();
    let mut ward_manager_assignments = Vec::new();
    for (i, w) in wards.iter().enumerate() {
        let dir_a = &director_assignments[i % DIRECTORATES.len()];
        let (m, a) = hire(&mut rng, "Ward Manager", w, Some(dir_a))?;
        ward_managers.push((
            m,
            directors[i % DIRECTORATES.len()].0.employee_number.clone(),
        ));
        ward_manager_assignments.push(a);
    }
    const TITLES: &[&str] = &[
        "Staff Nurse",
        "Staff Nurse",
        "Healthcare Assistant",
        "Healthcare Assistant",
        "Senior Staff Nurse",
        "Physiotherapist",
        "Ward Clerk",
        "Occupational Therapist",
    ];
    let mut staff_assignments = Vec::new();
    for i in 0..spec.ward_staff {
        let w = i % wards.len();
        let title = TITLES[rng.next_u32() as usize % TITLES.len()];
        let (m, a) = hire(
            &mut rng,
            title,
            &wards[w],
            Some(&ward_manager_assignments[w]),
        )?;
        staff.push(m);
        staff_assignments.push(a);
    }
    // One in twenty also works bank shifts on another ward: a second assignment.
    let mut second_assignments = 0;
    for (i, m) in staff.iter().enumerate().filter(|(i, _)| i % 20 == 7) {
        let w = (i + 1) % wards.len();
        let main = &staff_assignments[i];
        esr.add_assignment(
            &feed,
            vpd,
            NewAssignment {
                number: format!("{main}-2").parse()?,
                employee_number: m.employee_number.clone(),
                title: "Bank Healthcare Assistant".into(),
                position: format!("{vpd}|Bank Healthcare Assistant|").parse()?,
                org_unit: wards[w].clone(),
                supervisor: Some(ward_manager_assignments[w].clone()),
            },
        )?;
        second_assignments += 1;
    }

    // Two user administrators, then every manager URP through one of them on HSCN.
    esr.bootstrap_user_administrators(
        vpd,
        &[admin1.username.clone(), admin2.username.clone()],
        "trust go-live",
    )?;
    let card = SmartcardAuthentication::verified_by_caller("UUID-ADMIN-0001")?;
    let admin_session: SessionId = esr.log_in_with_smartcard(&admin1.username, &card)?.id;
    let grant = |holder: &Member, urp: Urp, scope: GrantScope, approval: Approval| {
        esr.grant_urp(
            admin_session,
            GrantRequest {
                holder: holder.username.clone(),
                urp,
                scope,
                approval,
                reason: "role requires it".into(),
            },
        )
    };
    let mss = Urp::ManagerSelfServicePayrollApprovalsRequired;
    grant(
        &chief_executive,
        mss,
        GrantScope::WholeTrust,
        Approval::CaldicottException {
            approved_by: guardian.employee_number.clone(),
            reference: "CG-2026-001".into(),
        },
    )?;
    let ceo_no = chief_executive.employee_number.clone();
    for (d, _) in &directors {
        grant(
            d,
            mss,
            GrantScope::WholeTrust,
            Approval::LineManager {
                verified_by: ceo_no.clone(),
            },
        )?;
    }
    for (m, director) in &ward_managers {
        grant(
            m,
            Urp::SupervisorSelfService,
            GrantScope::WholeTrust,
            Approval::LineManager {
                verified_by: director.clone(),
            },
        )?;
    }
    // Professional URPs for the corporate team.
    let approval = Approval::LineManager {
        verified_by: ceo_no.clone(),
    };
    for urp in [
        Urp::LocalWorkstructuresAdministration,
        Urp::PortalAdministration,
        Urp::LocalBiAdministration,
        Urp::LocalHrAdministration,
    ] {
        grant(&admin2, urp, GrantScope::WholeTrust, approval.clone())?;
    }
    // A delegated administrator for the first directorate.
    if let Some((d, _)) = directors.first() {
        grant(
            d,
            Urp::AdministratorSelfServiceApprovalsRequired,
            GrantScope::OrgUnits(BTreeSet::from([unit(DIRECTORATES[0])?])),
            approval,
        )?;
    }
    esr.log_out(admin_session)?;

    Ok(BuiltTrust {
        vpd,
        chief_executive,
        caldicott_guardian: guardian,
        user_admins: [admin1, admin2],
        directors: directors.into_iter().map(|(m, _)| m).collect(),
        ward_managers: ward_managers.into_iter().map(|(m, _)| m).collect(),
        staff,
        wards,
        second_assignments,
    })
}
