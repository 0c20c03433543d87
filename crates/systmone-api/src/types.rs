//! Value types shared by many functions: identifiers, codes, drugs, code lists with a
//! catch-all, addresses and names (whose `Debug` never prints the values).

use std::fmt;

use chrono::{NaiveDate, NaiveDateTime};
use nhs_identifiers::NhsNumber;

use crate::date;
use crate::error::Error;
use crate::options::NhsNumberSpelling;
use crate::redact::debug_redacted;
use crate::xml::{Element, Writer};

nhs_identifiers::text_id! {
    /// `EventUID`: one journal event.
    pub struct EventUid;
}
nhs_identifiers::text_id! {
    /// `TaskUID`: one task.
    pub struct TaskUid;
}
nhs_identifiers::text_id! {
    /// `AppointmentUID`: one appointment.
    pub struct AppointmentUid;
}
nhs_identifiers::text_id! {
    /// `VisitUID`: one visit.
    pub struct VisitUid;
}
nhs_identifiers::text_id! {
    /// `DocumentUID`: a letter's or attachment's file, fetched with `GetDocument`.
    pub struct DocumentUid;
}
nhs_identifiers::text_id! {
    /// `ProblemUID` / `LinkedProblemUID`: a problem header.
    pub struct ProblemUid;
}
nhs_identifiers::text_id! {
    /// `ReferralUID` / `LinkedReferralUID`: a referral.
    pub struct ReferralUid;
}
nhs_identifiers::text_id! {
    /// `DeviceID`: this installation, allocated by SystmOne on first contact (send it empty
    /// until then, see [`DeviceId::unallocated`]).
    pub struct DeviceId;
}
nhs_identifiers::text_id! {
    /// `RequestUID`: the caller's id for one request, echoed in the response.
    pub struct RequestUid;
}
nhs_identifiers::text_id! {
    /// `ResponseUID`: SystmOne's GUID for one response.
    pub struct ResponseUid;
}

impl DeviceId {
    /// The empty device id sent on first contact.
    pub fn unallocated() -> Self {
        Self(String::new())
    }

    /// Whether SystmOne has not allocated an id yet (the value is empty).
    pub fn is_unallocated(&self) -> bool {
        self.0.trim().is_empty()
    }
}

/// `APIKey`: issued by TPP for the software. `Debug` and `Display` never print it.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey(String);

impl ApiKey {
    /// Wraps a key.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The full key, for the wire only. Do not log it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKey(****)")
    }
}

impl fmt::Display for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("****")
    }
}

nhs_identifiers::open_enum! {
    /// A patient's sex: `M`, `F`, `I` (indeterminate), `U` (unknown). Search and update take
    /// `M`/`F`.
    pub enum Sex {
        /// `M`
        Male = "M",
        /// `F`
        Female = "F",
        /// `I`
        Indeterminate = "I",
        /// `U`
        Unknown = "U",
    }
}

nhs_identifiers::open_enum! {
    /// Demographic yes/no fields (`EnglishSpeaker`, `SMSConsent`).
    pub enum YesNo {
        /// `Yes`
        Yes = "Yes",
        /// `No`
        No = "No",
        /// `Unknown`
        Unknown = "Unknown",
    }
}

nhs_identifiers::open_enum! {
    /// `RecordState`: `Open` means a write is not committed until the user saves the record.
    pub enum RecordState {
        /// The record is still open in the client (changes not yet saved).
        Open = "Open",
        /// The record was closed (changes committed).
        Closed = "Closed",
    }
}

nhs_identifiers::open_enum! {
    /// Clinical code scheme (`Code@Scheme`, `OutputScheme/Codes`). CTV3 is the default.
    pub enum CodeScheme {
        /// `CTV3` (Read v3).
        Ctv3 = "CTV3",
        /// `Snomed` (SNOMED CT).
        Snomed = "Snomed",
    }
}

nhs_identifiers::open_enum! {
    /// Drug dictionary (`Drug@Scheme`, `OutputScheme/Drugs`). Multilex is the default.
    pub enum DrugScheme {
        /// `Multilex`
        Multilex = "Multilex",
        /// `Dmd` (dm+d).
        Dmd = "Dmd",
    }
}

/// How a request names the patient: exactly one of NHS number, pseudo number or client id.
/// `Debug` masks every variant.
#[derive(Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PatientId {
    /// `NhsNumber` / `NHSNumber`.
    NhsNumber(NhsNumber),
    /// `PseudoNumber`: an NHS-number-like substitute for records without one.
    PseudoNumber(String),
    /// `ClientID` (e.g. a prison number).
    ClientId(String),
}

impl fmt::Debug for PatientId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PatientId::NhsNumber(n) => write!(f, "NhsNumber({n:?})"),
            PatientId::PseudoNumber(_) => f.write_str("PseudoNumber(****)"),
            PatientId::ClientId(_) => f.write_str("ClientId(****)"),
        }
    }
}

impl From<NhsNumber> for PatientId {
    fn from(n: NhsNumber) -> Self {
        PatientId::NhsNumber(n)
    }
}

impl PatientId {
    /// The NHS number, when the patient is named by one.
    pub fn nhs_number(&self) -> Option<&NhsNumber> {
        match self {
            PatientId::NhsNumber(n) => Some(n),
            _ => None,
        }
    }

    /// Reads the identifier children of an `Identity` element (both NHS number spellings).
    pub(crate) fn read_from(identity: Element<'_, '_>) -> Result<Option<Self>, Error> {
        for spelling in ["NhsNumber", "NHSNumber"] {
            if let Some(el) = identity.child(spelling) {
                let value = el.text().trim();
                if value.is_empty() {
                    continue;
                }
                let number = value
                    .parse::<NhsNumber>()
                    .map_err(|e| Error::invalid(spelling, e.to_string()))?;
                return Ok(Some(PatientId::NhsNumber(number)));
            }
        }
        if let Some(value) = identity.child_text("PseudoNumber")
            && !value.trim().is_empty()
        {
            return Ok(Some(PatientId::PseudoNumber(value.trim().to_owned())));
        }
        if let Some(value) = identity.child_text("ClientID")
            && !value.trim().is_empty()
        {
            return Ok(Some(PatientId::ClientId(value.trim().to_owned())));
        }
        Ok(None)
    }

    fn write_inner(&self, w: &mut Writer) {
        match self {
            PatientId::NhsNumber(n) => {
                let name = match w.options.nhs_number_spelling {
                    NhsNumberSpelling::NhsNumber => "NhsNumber",
                    NhsNumberSpelling::NHSNumber => "NHSNumber",
                };
                w.elem(name, &n.expose());
            }
            PatientId::PseudoNumber(v) => w.elem("PseudoNumber", v),
            PatientId::ClientId(v) => w.elem("ClientID", v),
        }
    }

    /// Writes `<Identity>…</Identity>`.
    pub(crate) fn write_identity(&self, w: &mut Writer) {
        w.open("Identity");
        self.write_inner(w);
        w.close("Identity");
    }

    /// Reads a required `Identity` child of `parent`.
    pub(crate) fn require_in(parent: Element<'_, '_>) -> Result<Self, Error> {
        let identity = parent.require("Identity")?;
        Self::read_from(identity)?.ok_or_else(|| Error::MissingElement {
            parent: "Identity".to_owned(),
            element: "NhsNumber",
        })
    }

    /// Reads an optional `Identity` child of `parent`.
    pub(crate) fn optional_in(parent: Element<'_, '_>) -> Result<Option<Self>, Error> {
        match parent.child("Identity") {
            Some(identity) => Self::read_from(identity),
            None => Ok(None),
        }
    }
}

/// `Identity` as responses carry it: the patient identifier plus the Strategic Reporting id.
/// `Debug` masks both.
#[derive(Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Identity {
    /// NHS number, pseudo number or client id (absent if SystmOne sent none).
    pub patient: Option<PatientId>,
    /// `StrategicReportingIdentifier`: joins API output to Strategic Reporting extracts.
    pub strategic_reporting_identifier: Option<String>,
}

debug_redacted!(Identity {
    patient,
    strategic_reporting_identifier: redacted,
});

impl Identity {
    /// An identity naming the patient.
    pub fn new(patient: impl Into<PatientId>) -> Self {
        Self {
            patient: Some(patient.into()),
            strategic_reporting_identifier: None,
        }
    }

    /// The NHS number, if the patient is named by one.
    pub fn nhs_number(&self) -> Option<&NhsNumber> {
        self.patient.as_ref().and_then(PatientId::nhs_number)
    }

    pub(crate) fn read(el: Element<'_, '_>) -> Result<Self, Error> {
        Ok(Self {
            patient: PatientId::read_from(el)?,
            strategic_reporting_identifier: el.child_text("StrategicReportingIdentifier"),
        })
    }

    pub(crate) fn optional_in(parent: Element<'_, '_>) -> Result<Option<Self>, Error> {
        parent.child("Identity").map(Self::read).transpose()
    }

    pub(crate) fn write(&self, w: &mut Writer) {
        w.open("Identity");
        if let Some(p) = &self.patient {
            p.write_inner(w);
        }
        w.opt(
            "StrategicReportingIdentifier",
            self.strategic_reporting_identifier.as_deref(),
        );
        w.close("Identity");
    }
}

/// A clinical code: `<Code Scheme="…" Code="…" Term="…"/>`.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Code {
    /// CTV3 (default) or SNOMED CT.
    pub scheme: CodeScheme,
    /// The code value.
    pub code: String,
    /// The term (responses; optional on writes).
    pub term: Option<String>,
}

impl Code {
    /// A code without a term.
    pub fn new(scheme: CodeScheme, code: impl Into<String>) -> Self {
        Self {
            scheme,
            code: code.into(),
            term: None,
        }
    }

    /// A SNOMED CT code.
    pub fn snomed(code: impl Into<String>) -> Self {
        Self::new(CodeScheme::Snomed, code)
    }

    /// A CTV3 code.
    pub fn ctv3(code: impl Into<String>) -> Self {
        Self::new(CodeScheme::Ctv3, code)
    }

    /// Sets the term.
    pub fn with_term(mut self, term: impl Into<String>) -> Self {
        self.term = Some(term.into());
        self
    }

    pub(crate) fn read(el: Element<'_, '_>) -> Result<Self, Error> {
        Ok(Self {
            scheme: el
                .attr("Scheme")
                .map_or(CodeScheme::Ctv3, CodeScheme::from_wire),
            code: el
                .attr("Code")
                .ok_or_else(|| Error::invalid("Code@Code", "missing"))?
                .to_owned(),
            term: el.attr("Term").map(str::to_owned),
        })
    }

    pub(crate) fn write(&self, w: &mut Writer) {
        w.empty_attrs(
            "Code",
            &[
                ("Scheme", Some(self.scheme.as_str())),
                ("Code", Some(&self.code)),
                ("Term", self.term.as_deref()),
            ],
        );
    }
}

/// A drug: `<Drug Scheme="…" ProductID="…" PackID="…" Name="…"/>`.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Drug {
    /// Multilex (default) or dm+d.
    pub scheme: DrugScheme,
    /// `ProductID`.
    pub product_id: String,
    /// `PackID` (Multilex only).
    pub pack_id: Option<String>,
    /// `Name` (responses).
    pub name: Option<String>,
}

impl Drug {
    /// A drug by scheme and product id.
    pub fn new(scheme: DrugScheme, product_id: impl Into<String>) -> Self {
        Self {
            scheme,
            product_id: product_id.into(),
            pack_id: None,
            name: None,
        }
    }

    pub(crate) fn read(el: Element<'_, '_>) -> Result<Self, Error> {
        Ok(Self {
            scheme: el
                .attr("Scheme")
                .map_or(DrugScheme::Multilex, DrugScheme::from_wire),
            product_id: el
                .attr("ProductID")
                .ok_or_else(|| Error::invalid("Drug@ProductID", "missing"))?
                .to_owned(),
            pack_id: el.attr("PackID").map(str::to_owned),
            name: el.attr("Name").map(str::to_owned),
        })
    }

    pub(crate) fn write(&self, w: &mut Writer) {
        w.empty_attrs(
            "Drug",
            &[
                ("Scheme", Some(self.scheme.as_str())),
                ("ProductID", Some(&self.product_id)),
                ("PackID", self.pack_id.as_deref()),
                ("Name", self.name.as_deref()),
            ],
        );
    }
}

/// A postal address. `Debug` does not print the values.
#[derive(Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Address {
    /// `HouseName`
    pub house_name: Option<String>,
    /// `HouseNumber`
    pub house_number: Option<String>,
    /// `Road`
    pub road: Option<String>,
    /// `Locality`
    pub locality: Option<String>,
    /// `Town`
    pub town: Option<String>,
    /// `County`
    pub county: Option<String>,
    /// `Postcode`
    pub postcode: Option<String>,
}

impl fmt::Debug for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Address { <redacted> }")
    }
}

impl Address {
    pub(crate) fn read(el: Element<'_, '_>) -> Self {
        Self {
            house_name: el.child_text("HouseName"),
            house_number: el.child_text("HouseNumber"),
            road: el.child_text("Road"),
            locality: el.child_text("Locality"),
            town: el.child_text("Town"),
            county: el.child_text("County"),
            postcode: el.child_text("Postcode"),
        }
    }

    pub(crate) fn write_as(&self, w: &mut Writer, name: &str) {
        w.open(name);
        w.opt("HouseName", self.house_name.as_deref());
        w.opt("HouseNumber", self.house_number.as_deref());
        w.opt("Road", self.road.as_deref());
        w.opt("Locality", self.locality.as_deref());
        w.opt("Town", self.town.as_deref());
        w.opt("County", self.county.as_deref());
        w.opt("Postcode", self.postcode.as_deref());
        w.close(name);
    }
}

/// A person's name (letter recipients and senders). `Debug` does not print the values.
#[derive(Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct PersonName {
    /// `Title`
    pub title: Option<String>,
    /// `FirstName`
    pub first_name: Option<String>,
    /// `MiddleNames`
    pub middle_names: Option<String>,
    /// `Surname`
    pub surname: Option<String>,
}

impl fmt::Debug for PersonName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PersonName { <redacted> }")
    }
}

impl PersonName {
    pub(crate) fn read(el: Element<'_, '_>) -> Self {
        Self {
            title: el.child_text("Title"),
            first_name: el.child_text("FirstName"),
            middle_names: el.child_text("MiddleNames"),
            surname: el.child_text("Surname"),
        }
    }

    pub(crate) fn write_as(&self, w: &mut Writer, name: &str) {
        w.open(name);
        w.opt("Title", self.title.as_deref());
        w.opt("FirstName", self.first_name.as_deref());
        w.opt("MiddleNames", self.middle_names.as_deref());
        w.opt("Surname", self.surname.as_deref());
        w.close(name);
    }
}

/// `OutputScheme`: which code and drug schemes the response should use.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct OutputScheme {
    /// `Drugs`: Multilex (default) or Dmd.
    pub drugs: Option<DrugScheme>,
    /// `Codes`: CTV3 (default) or Snomed.
    pub codes: Option<CodeScheme>,
}

impl OutputScheme {
    /// SNOMED CT codes (drugs left at the default).
    pub fn snomed() -> Self {
        Self {
            drugs: None,
            codes: Some(CodeScheme::Snomed),
        }
    }

    /// Both schemes set.
    pub fn new(drugs: Option<DrugScheme>, codes: Option<CodeScheme>) -> Self {
        Self { drugs, codes }
    }

    pub(crate) fn read(el: Element<'_, '_>) -> Self {
        Self {
            drugs: el
                .child("Drugs")
                .map(|d| DrugScheme::from_wire(d.text().trim())),
            codes: el
                .child("Codes")
                .map(|c| CodeScheme::from_wire(c.text().trim())),
        }
    }

    pub(crate) fn write(&self, w: &mut Writer) {
        w.open("OutputScheme");
        w.opt("Drugs", self.drugs.as_ref().map(DrugScheme::as_str));
        w.opt("Codes", self.codes.as_ref().map(CodeScheme::as_str));
        w.close("OutputScheme");
    }
}

// ---- small read helpers used by the function modules ----

/// An optional date element.
pub(crate) fn opt_date(el: Element<'_, '_>, name: &str) -> Result<Option<NaiveDate>, Error> {
    match el.child(name) {
        Some(c) if !c.text().trim().is_empty() => date::parse_date(name, c.text()).map(Some),
        _ => Ok(None),
    }
}

/// An optional date-time element.
pub(crate) fn opt_date_time(
    el: Element<'_, '_>,
    name: &str,
) -> Result<Option<NaiveDateTime>, Error> {
    match el.child(name) {
        Some(c) if !c.text().trim().is_empty() => date::parse_date_time(name, c.text()).map(Some),
        _ => Ok(None),
    }
}

/// An optional date-time attribute.
pub(crate) fn opt_attr_date_time(
    el: Element<'_, '_>,
    name: &str,
) -> Result<Option<NaiveDateTime>, Error> {
    match el.attr(name) {
        Some(v) if !v.trim().is_empty() => {
            date::parse_date_time(name, v)
                .map(Some)
                .map_err(|e| match e {
                    Error::InvalidValue { reason, .. } => Error::InvalidValue {
                        element: format!("{}@{name}", el.name()),
                        reason,
                    },
                    other => other,
                })
        }
        _ => Ok(None),
    }
}

/// An optional `true`/`false` element.
pub(crate) fn opt_bool(el: Element<'_, '_>, name: &str) -> Result<Option<bool>, Error> {
    match el.child(name) {
        Some(c) => match c.text().trim() {
            "true" | "True" | "TRUE" | "1" => Ok(Some(true)),
            "false" | "False" | "FALSE" | "0" => Ok(Some(false)),
            "" => Ok(None),
            _ => Err(Error::invalid(name, "expected true or false")),
        },
        None => Ok(None),
    }
}

/// An optional duration in minutes (`10` or `10.0`).
pub(crate) fn opt_minutes(el: Element<'_, '_>, name: &str) -> Result<Option<u32>, Error> {
    match el.child(name) {
        Some(c) if !c.text().trim().is_empty() => parse_minutes(name, c.text()).map(Some),
        _ => Ok(None),
    }
}

pub(crate) fn parse_minutes(name: &str, value: &str) -> Result<u32, Error> {
    let value = value.trim();
    let whole = match value.split_once('.') {
        Some((whole, fraction)) if fraction.bytes().all(|b| b == b'0') => whole,
        Some(_) => return Err(Error::invalid(name, "expected whole minutes")),
        None => value,
    };
    whole
        .parse::<u32>()
        .map_err(|_| Error::invalid(name, "expected a number of minutes"))
}

/// Writes an optional date element.
pub(crate) fn write_opt_date(w: &mut Writer, name: &str, value: Option<NaiveDate>) {
    if let Some(d) = value {
        w.elem(name, &date::format_date(d));
    }
}

/// Writes an optional date-time element.
pub(crate) fn write_opt_date_time(w: &mut Writer, name: &str, value: Option<NaiveDateTime>) {
    if let Some(t) = value {
        w.elem(name, &date::format_date_time(t));
    }
}

/// Writes an optional minutes element.
pub(crate) fn write_opt_minutes(w: &mut Writer, name: &str, value: Option<u32>) {
    if let Some(m) = value {
        w.elem(name, &m.to_string());
    }
}
