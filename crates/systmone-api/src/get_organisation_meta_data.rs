//! `GetOrganisationMetaData` (capital D): the organisation's sites, users, slot and clinic
//! types (reference §8.2).

/// Version 1.0.
pub mod v1 {
    use crate::error::Error;
    use crate::function::Metadata;
    use crate::types::Address;
    use crate::xml::{Element, Writer};

    /// `GetOrganisationMetaData` 1.0.
    pub const METADATA: Metadata = Metadata {
        function: "GetOrganisationMetaData",
        version: "1.0",
        writes: false,
        patient_record: false,
        default_limit: None,
    };

    /// Parameters.
    #[derive(Clone, Debug, Default, PartialEq, Eq)]
    #[non_exhaustive]
    pub struct Request {
        /// `LoggedOnUserOnly`: only the logged-in user and their site.
        pub logged_on_user_only: bool,
    }

    impl Request {
        /// The whole organisation.
        pub fn new() -> Self {
            Self::default()
        }

        /// Only the logged-in user and their site.
        pub fn logged_on_user_only() -> Self {
            Self {
                logged_on_user_only: true,
            }
        }

        pub(crate) fn validate(&self) -> Result<(), Error> {
            Ok(())
        }

        pub(crate) fn write_params(&self, w: &mut Writer) {
            w.flag("LoggedOnUserOnly", self.logged_on_user_only);
        }

        pub(crate) fn read_params(el: Element<'_, '_>) -> Result<Self, Error> {
            Ok(Self {
                logged_on_user_only: el.has("LoggedOnUserOnly"),
            })
        }
    }

    /// A `Site`.
    #[derive(Clone, Debug, Default, PartialEq, Eq)]
    #[non_exhaustive]
    pub struct Site {
        /// `Name`
        pub name: Option<String>,
        /// `ID` (ODS-style code).
        pub id: Option<String>,
        /// `Telephone`
        pub telephone: Option<String>,
        /// `Fax`
        pub fax: Option<String>,
        /// `Email`
        pub email: Option<String>,
        /// `Address`
        pub address: Option<Address>,
        /// `PrimarySite` flag.
        pub primary_site: bool,
        /// `CurrentSite` flag: where this client is.
        pub current_site: bool,
    }

    /// A `User` (staff member).
    #[derive(Clone, Debug, Default, PartialEq, Eq)]
    #[non_exhaustive]
    pub struct User {
        /// `Title`
        pub title: Option<String>,
        /// `FirstName`
        pub first_name: Option<String>,
        /// `MiddleNames`
        pub middle_names: Option<String>,
        /// `Surname`
        pub surname: Option<String>,
        /// `UserName`: SystmOne login, the user's unique id.
        pub user_name: Option<String>,
        /// `Gender` (M/F/empty).
        pub gender: Option<String>,
        /// `Role`
        pub role: Option<String>,
        /// `RoleCode` (smartcard role code).
        pub role_code: Option<String>,
        /// `NationalID`
        pub national_id: Option<String>,
        /// `NationalIDType` (GMC, NMC, …).
        pub national_id_type: Option<String>,
        /// `AccessRights/Access*`
        pub access_rights: Vec<String>,
        /// `UserGroups/Group*`
        pub user_groups: Vec<String>,
        /// `Teams/Team*`
        pub teams: Vec<String>,
        /// `CurrentUser` flag: the logged-in user.
        pub current_user: bool,
    }

    /// The organisation's configuration.
    #[derive(Clone, Debug, Default, PartialEq, Eq)]
    #[non_exhaustive]
    pub struct Response {
        /// `Site*`
        pub sites: Vec<Site>,
        /// `User*`
        pub users: Vec<User>,
        /// `SlotType*`
        pub slot_types: Vec<String>,
        /// `ClinicType*`
        pub clinic_types: Vec<String>,
    }

    fn list(el: Element<'_, '_>, wrapper: &str, item: &str) -> Vec<String> {
        el.child(wrapper).map(|w| w.texts(item)).unwrap_or_default()
    }

    fn write_list(w: &mut Writer, wrapper: &str, item: &str, values: &[String]) {
        if !values.is_empty() {
            w.open(wrapper);
            w.each(item, values);
            w.close(wrapper);
        }
    }

    impl Response {
        /// The logged-in user (`CurrentUser`).
        pub fn current_user(&self) -> Option<&User> {
            self.users.iter().find(|u| u.current_user)
        }

        pub(crate) fn write_body(&self, w: &mut Writer) {
            for s in &self.sites {
                w.open("Site");
                w.opt("Name", s.name.as_deref());
                w.opt("ID", s.id.as_deref());
                w.opt("Telephone", s.telephone.as_deref());
                w.opt("Fax", s.fax.as_deref());
                w.opt("Email", s.email.as_deref());
                if let Some(a) = &s.address {
                    a.write_as(w, "Address");
                }
                w.flag("PrimarySite", s.primary_site);
                w.flag("CurrentSite", s.current_site);
                w.close("Site");
            }
            for u in &self.users {
                w.open("User");
                w.opt("Title", u.title.as_deref());
                w.opt("FirstName", u.first_name.as_deref());
                w.opt("MiddleNames", u.middle_names.as_deref());
                w.opt("Surname", u.surname.as_deref());
                w.opt("UserName", u.user_name.as_deref());
                w.opt("Gender", u.gender.as_deref());
                w.opt("Role", u.role.as_deref());
                w.opt("RoleCode", u.role_code.as_deref());
                w.opt("NationalID", u.national_id.as_deref());
                w.opt("NationalIDType", u.national_id_type.as_deref());
                write_list(w, "AccessRights", "Access", &u.access_rights);
                write_list(w, "UserGroups", "Group", &u.user_groups);
                write_list(w, "Teams", "Team", &u.teams);
                w.flag("CurrentUser", u.current_user);
                w.close("User");
            }
            w.each("SlotType", &self.slot_types);
            w.each("ClinicType", &self.clinic_types);
        }

        pub(crate) fn read_body(el: Element<'_, '_>) -> Result<Self, Error> {
            Ok(Self {
                sites: el
                    .children_named("Site")
                    .map(|s| Site {
                        name: s.child_text("Name"),
                        id: s.child_text("ID"),
                        telephone: s.child_text("Telephone"),
                        fax: s.child_text("Fax"),
                        email: s.child_text("Email"),
                        address: s.child("Address").map(Address::read),
                        primary_site: s.has("PrimarySite"),
                        current_site: s.has("CurrentSite"),
                    })
                    .collect(),
                users: el
                    .children_named("User")
                    .map(|u| User {
                        title: u.child_text("Title"),
                        first_name: u.child_text("FirstName"),
                        middle_names: u.child_text("MiddleNames"),
                        surname: u.child_text("Surname"),
                        user_name: u.child_text("UserName"),
                        gender: u.child_text("Gender"),
                        role: u.child_text("Role"),
                        role_code: u.child_text("RoleCode"),
                        national_id: u.child_text("NationalID"),
                        national_id_type: u.child_text("NationalIDType"),
                        access_rights: list(u, "AccessRights", "Access"),
                        user_groups: list(u, "UserGroups", "Group"),
                        teams: list(u, "Teams", "Team"),
                        current_user: u.has("CurrentUser"),
                    })
                    .collect(),
                slot_types: el.texts("SlotType"),
                clinic_types: el.texts("ClinicType"),
            })
        }
    }
}
