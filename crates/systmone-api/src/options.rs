//! How the encoder writes: [`EncodeOptions`] and the [`NhsNumberSpelling`] it picks. The
//! lowest layer of the codec, below the XML writer and the value types that read it.

/// How the NHS number element is spelled when writing (both are accepted on read).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum NhsNumberSpelling {
    /// `NhsNumber`: the spec's and templates' request spelling (default).
    #[default]
    NhsNumber,
    /// `NHSNumber`: the XSD's and responses' spelling.
    #[allow(clippy::upper_case_acronyms)]
    NHSNumber,
}

/// Options for encoding.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct EncodeOptions {
    /// Spelling of the NHS number element.
    pub nhs_number_spelling: NhsNumberSpelling,
    /// Start the document with `<?xml version="1.0" encoding="UTF-8"?>` (off by default: the
    /// spec's examples have none).
    pub xml_declaration: bool,
}

impl EncodeOptions {
    /// Defaults with this NHS number spelling.
    pub fn with_nhs_number_spelling(mut self, spelling: NhsNumberSpelling) -> Self {
        self.nhs_number_spelling = spelling;
        self
    }

    /// Defaults with an XML declaration.
    pub fn with_xml_declaration(mut self, on: bool) -> Self {
        self.xml_declaration = on;
        self
    }

    /// The options a SystmOne-side encoder (a simulator) would use: `NHSNumber`, as in
    /// SystmOne's responses.
    pub fn server() -> Self {
        Self::default().with_nhs_number_spelling(NhsNumberSpelling::NHSNumber)
    }
}
