//! `PatientSearch`: at least two criteria, names by prefix, postcode in full or by outward
//! code, telephone against every number.

use chrono::NaiveDate;

use crate::behaviour::refusal::Refusal;
use crate::model::Patient;
use crate::organisation::OrgState;

/// `PatientSearch` criteria.
#[derive(Clone, Debug, Default)]
pub(crate) struct SearchCriteria {
    pub(crate) first_name: Option<String>,
    pub(crate) surname: Option<String>,
    pub(crate) date_of_birth: Option<NaiveDate>,
    pub(crate) postcode: Option<String>,
    pub(crate) telephone: Option<String>,
    pub(crate) gender: Option<String>,
}

fn norm(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_whitespace())
        .flat_map(char::to_uppercase)
        .collect()
}

fn digits(s: &str) -> String {
    s.chars().filter(char::is_ascii_digit).collect()
}

fn postcode_matches(wanted: &str, postcode: &str) -> bool {
    let wanted = wanted.trim().to_uppercase();
    if wanted.contains(' ') {
        return norm(&wanted) == norm(postcode);
    }
    // An outward code (`LS18`), or a full postcode written without its space.
    let outward = postcode
        .split_whitespace()
        .next()
        .unwrap_or("")
        .to_uppercase();
    outward == wanted || norm(postcode) == norm(&wanted)
}

/// Runs a search: at least two criteria, names by case-insensitive prefix, postcode full or
/// outward, telephone against every number, gender exact.
pub(crate) fn search<'a>(
    state: &'a OrgState,
    criteria: &SearchCriteria,
) -> Result<Vec<&'a Patient>, Refusal> {
    let given = |o: &Option<String>| o.as_deref().is_some_and(|s| !s.trim().is_empty());
    let count = [
        given(&criteria.first_name),
        given(&criteria.surname),
        criteria.date_of_birth.is_some(),
        given(&criteria.postcode),
        given(&criteria.telephone),
        given(&criteria.gender),
    ]
    .iter()
    .filter(|&&b| b)
    .count();
    if count < 2 {
        return Err(Refusal::permanent(
            "At least two search parameters must be specified",
        ));
    }
    let prefix = |wanted: &Option<String>, value: &str| match wanted.as_deref() {
        Some(w) if !w.trim().is_empty() => norm(value).starts_with(&norm(w)),
        _ => true,
    };
    Ok(state
        .data
        .patients
        .iter()
        .filter(|p| prefix(&criteria.first_name, &p.first_name))
        .filter(|p| prefix(&criteria.surname, &p.surname))
        .filter(|p| criteria.date_of_birth.is_none_or(|d| d == p.date_of_birth))
        .filter(|p| match criteria.postcode.as_deref() {
            Some(w) if !w.trim().is_empty() => postcode_matches(w, &p.address.postcode),
            _ => true,
        })
        .filter(|p| match criteria.telephone.as_deref() {
            Some(w) if !w.trim().is_empty() => {
                let w = digits(w);
                p.telephones().any(|t| digits(t) == w)
            }
            _ => true,
        })
        .filter(|p| match criteria.gender.as_deref() {
            Some(w) if !w.trim().is_empty() => w.trim() == p.sex,
            _ => true,
        })
        .collect())
}
