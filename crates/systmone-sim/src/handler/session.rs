//! Functions about the client session and the organisation rather than one patient:
//! `GetFunctions`, `GetOrganisationMetaData`, `GetCurrentActivity`/`GetCurrentSelection`,
//! `IsPatientRetrieved`, `DataExtract`, `GetXSDFiles`, `GetReferenceData`.

use systmone_api as api;
use systmone_api::Response;

use crate::behaviour::{self, Refusal};
use crate::gateway::Gateway;
use crate::handler::wire::{address_of, identity_of};
use crate::organisation::OrgState;

/// `GetFunctions`.
pub(super) fn get_functions() -> Result<Response, Refusal> {
    let mut response = api::get_functions::v1::Response::default();
    response.functions = api::all_functions()
        .map(|m| {
            api::get_functions::v1::SupportedFunction::new(m.name(), vec![m.version.to_owned()])
        })
        .collect();
    Ok(response.into())
}

/// `GetCurrentActivity`.
pub(super) fn get_current_activity(gateway: &Gateway) -> Result<Response, Refusal> {
    let state = gateway.org.lock();
    let mut response = api::get_current_activity::v1::Response::default();
    match behaviour::open_in(&state, gateway.id).and_then(|n| state.patient(&n)) {
        Some(patient) => {
            response.identity = Some(identity_of(patient));
            response.activities = vec!["Patient Actions".to_owned(), "Patient Record".to_owned()];
        }
        None => {
            response.activities = vec!["Navigation Actions".to_owned()];
        }
    }
    response.current_selection = Some(api::get_current_selection::v1::CurrentSelection::default());
    Ok(response.into())
}

/// `GetCurrentSelection`.
pub(super) fn get_current_selection(gateway: &Gateway) -> Result<Response, Refusal> {
    let state = gateway.org.lock();
    let mut response = api::get_current_selection::v1::Response::default();
    response.identity = behaviour::open_in(&state, gateway.id)
        .and_then(|n| state.patient(&n))
        .map(identity_of);
    Ok(response.into())
}

/// `DataExtract`.
pub(super) fn data_extract(r: &api::data_extract::v1::Request) -> Result<Response, Refusal> {
    if r.directory.trim().is_empty() || r.name.trim().is_empty() {
        return Err(Refusal::permanent(
            "DataExtract needs a Directory and the Name of an extract",
        ));
    }
    let mut response = api::data_extract::v1::Response::default();
    response.sr_manifest_crc = Some(format!("{:08X}", crc_of(r.name.as_bytes())));
    Ok(response.into())
}

/// `GetXSDFiles`.
pub(super) fn get_xsd_files(r: &api::get_xsd_files::v1::Request) -> Result<Response, Refusal> {
    let mut response = api::get_xsd_files::v1::Response::default();
    let _ = &r.path;
    response.files = api::all_functions()
        .map(|m| {
            let mut file = api::get_xsd_files::v1::XsdFile::default();
            file.function = Some(m.function.to_owned());
            file.version = Some(m.version.to_owned());
            file.result = Some("Success".to_owned());
            file
        })
        .collect();
    Ok(response.into())
}

/// `GetReferenceData`.
pub(super) fn get_reference_data(gateway: &Gateway) -> Result<Response, Refusal> {
    let state = gateway.org.lock();
    let mut response = api::get_reference_data::v1::Response::default();
    response.units = state
        .data
        .reference_data
        .iter()
        .map(|u| {
            let mut wire = api::get_reference_data::v1::NumericReadCodeUnits::default();
            wire.code = Some(u.code.clone());
            wire.units = Some(u.units.clone());
            wire.created_date = Some(u.created_date);
            wire
        })
        .collect();
    Ok(response.into())
}

/// `IsPatientRetrieved`.
pub(super) fn is_patient_retrieved(gateway: &Gateway) -> Result<Response, Refusal> {
    let state = gateway.org.lock();
    let open = behaviour::open_in(&state, gateway.id).is_some();
    Ok(api::is_patient_retrieved::v1::Response::new(open).into())
}

/// CRC-32 (IEEE), bitwise: a stable fake manifest checksum.
fn crc_of(bytes: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            let mask = (crc & 1).wrapping_neg();
            crc = (crc >> 1) ^ (0xEDB8_8320 & mask);
        }
    }
    !crc
}

pub(super) fn organisation_meta_data(
    gateway: &Gateway,
    state: &OrgState,
    logged_on_user_only: bool,
) -> api::get_organisation_meta_data::v1::Response {
    let me = state.user(&gateway.user_name);
    let current_site = me
        .map(|u| u.site_id.clone())
        .filter(|s| !s.is_empty())
        .or_else(|| {
            state
                .data
                .sites
                .iter()
                .find(|s| s.primary)
                .map(|s| s.id.clone())
        })
        .or_else(|| state.data.sites.first().map(|s| s.id.clone()))
        .unwrap_or_default();
    let mut response = api::get_organisation_meta_data::v1::Response::default();
    for site in &state.data.sites {
        if logged_on_user_only && site.id != current_site {
            continue;
        }
        let mut wire = api::get_organisation_meta_data::v1::Site::default();
        wire.name = Some(site.name.clone());
        wire.id = Some(site.id.clone());
        wire.telephone = Some(site.telephone.clone());
        wire.fax.clone_from(&site.fax);
        wire.email.clone_from(&site.email);
        wire.address = Some(address_of(&site.address));
        wire.primary_site = site.primary;
        wire.current_site = site.id == current_site;
        response.sites.push(wire);
    }
    for user in &state.data.users {
        let current = user.user_name == gateway.user_name;
        if logged_on_user_only && !current {
            continue;
        }
        let mut wire = api::get_organisation_meta_data::v1::User::default();
        wire.title = Some(user.title.clone());
        wire.first_name = Some(user.first_name.clone());
        wire.middle_names = Some(user.middle_names.clone());
        wire.surname = Some(user.surname.clone());
        wire.user_name = Some(user.user_name.clone());
        wire.gender = Some(user.gender.clone());
        wire.role = Some(user.role.clone());
        wire.role_code = Some(user.role_code.clone());
        wire.national_id = Some(user.national_id.clone());
        wire.national_id_type = Some(user.national_id_type.clone());
        wire.access_rights.clone_from(&user.access_rights);
        wire.user_groups.clone_from(&user.groups);
        wire.teams.clone_from(&user.teams);
        wire.current_user = current;
        response.users.push(wire);
    }
    if !logged_on_user_only {
        response.slot_types.clone_from(&state.data.slot_types);
        response.clinic_types.clone_from(&state.data.clinic_types);
    }
    response
}
