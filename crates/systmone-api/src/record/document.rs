//! Documents on the record: `Letter` (with its direction) and `Attachment`.

use chrono::NaiveDate;

use crate::error::Error;
use crate::redact::debug_redacted;
use crate::types::{Address, DocumentUid, PersonName, opt_date, write_opt_date};
use crate::xml::{Element, Writer};

nhs_identifiers::open_enum! {
    /// `Letter/Direction`.
    pub enum LetterDirection {
        /// `Incoming`
        Incoming = "Incoming",
        /// `Outgoing`
        Outgoing = "Outgoing",
        /// `Other`
        OtherDirection = "Other",
    }
}

/// `Letter`. `DocumentPath` is a file SystmOne reads on its own machine; leave
/// `date_sent_received` out for an unsent letter. Recipient name or organisation is required.
#[derive(Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Letter {
    /// `RecipientName`
    pub recipient_name: Option<PersonName>,
    /// `RecipientOrganisation`
    pub recipient_organisation: Option<String>,
    /// `RecipientAddress`
    pub recipient_address: Option<Address>,
    /// `SenderName`
    pub sender_name: Option<PersonName>,
    /// `SenderOrganisation`
    pub sender_organisation: Option<String>,
    /// `SenderAddress`
    pub sender_address: Option<Address>,
    /// `DocumentPath` (writes).
    pub document_path: Option<String>,
    /// `Type` ("Miscellaneous" is always accepted).
    pub letter_type: Option<String>,
    /// `Direction`
    pub direction: Option<LetterDirection>,
    /// `DateSentReceived`
    pub date_sent_received: Option<NaiveDate>,
    /// `DocumentUID` (reads).
    pub document_uid: Option<DocumentUid>,
}

debug_redacted!(Letter {
    recipient_name,
    recipient_organisation,
    recipient_address,
    sender_name,
    sender_organisation,
    sender_address,
    document_path: redacted,
    letter_type,
    direction,
    date_sent_received,
    document_uid
});

impl Letter {
    pub(crate) fn read(el: Element<'_, '_>) -> Result<Self, Error> {
        Ok(Self {
            recipient_name: el.child("RecipientName").map(PersonName::read),
            recipient_organisation: el.child_text("RecipientOrganisation"),
            recipient_address: el.child("RecipientAddress").map(Address::read),
            sender_name: el.child("SenderName").map(PersonName::read),
            sender_organisation: el.child_text("SenderOrganisation"),
            sender_address: el.child("SenderAddress").map(Address::read),
            document_path: el.child_text("DocumentPath"),
            letter_type: el.child_text("Type"),
            direction: el
                .child("Direction")
                .map(|d| LetterDirection::from_wire(d.text().trim())),
            date_sent_received: opt_date(el, "DateSentReceived")?,
            document_uid: el
                .child("DocumentUID")
                .map(|d| DocumentUid::new(d.text().trim())),
        })
    }

    pub(crate) fn write(&self, w: &mut Writer) {
        w.open("Letter");
        if let Some(n) = &self.recipient_name {
            n.write_as(w, "RecipientName");
        }
        w.opt(
            "RecipientOrganisation",
            self.recipient_organisation.as_deref(),
        );
        if let Some(a) = &self.recipient_address {
            a.write_as(w, "RecipientAddress");
        }
        if let Some(n) = &self.sender_name {
            n.write_as(w, "SenderName");
        }
        w.opt("SenderOrganisation", self.sender_organisation.as_deref());
        if let Some(a) = &self.sender_address {
            a.write_as(w, "SenderAddress");
        }
        w.opt("DocumentPath", self.document_path.as_deref());
        w.opt("Type", self.letter_type.as_deref());
        w.opt(
            "Direction",
            self.direction.as_ref().map(LetterDirection::as_str),
        );
        write_opt_date(w, "DateSentReceived", self.date_sent_received);
        w.opt(
            "DocumentUID",
            self.document_uid.as_ref().map(DocumentUid::as_str),
        );
        w.close("Letter");
    }
}

/// `Attachment`: on writes a `DocumentPath` (a file on the SystmOne PC) or a `URL`; on reads
/// file metadata and a `DocumentUID` for `GetDocument`.
#[derive(Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Attachment {
    /// `DocumentPath` (writes).
    pub document_path: Option<String>,
    /// `URL` (writes).
    pub url: Option<String>,
    /// `FileName` (reads).
    pub file_name: Option<String>,
    /// `FileSize` (reads).
    pub file_size: Option<String>,
    /// `DocumentUID` (reads).
    pub document_uid: Option<DocumentUid>,
    /// `Comments`
    pub comments: Option<String>,
}

debug_redacted!(Attachment {
    document_path: redacted,
    url: redacted,
    file_name: redacted,
    file_size,
    document_uid,
    comments: redacted
});

impl Attachment {
    /// An attachment of a file on the SystmOne client's machine.
    pub fn from_path(path: impl Into<String>) -> Self {
        Self {
            document_path: Some(path.into()),
            ..Self::default()
        }
    }

    pub(crate) fn read(el: Element<'_, '_>) -> Self {
        Self {
            document_path: el.child_text("DocumentPath"),
            url: el.child_text("URL"),
            file_name: el.child_text("FileName"),
            file_size: el.child_text("FileSize"),
            document_uid: el
                .child("DocumentUID")
                .map(|d| DocumentUid::new(d.text().trim())),
            comments: el.child_text("Comments"),
        }
    }

    pub(crate) fn write(&self, w: &mut Writer) {
        w.open("Attachment");
        w.opt("DocumentPath", self.document_path.as_deref());
        w.opt("URL", self.url.as_deref());
        w.opt("FileName", self.file_name.as_deref());
        w.opt("FileSize", self.file_size.as_deref());
        w.opt(
            "DocumentUID",
            self.document_uid.as_ref().map(DocumentUid::as_str),
        );
        w.opt("Comments", self.comments.as_deref());
        w.close("Attachment");
    }
}
