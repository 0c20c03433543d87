//! Drugs: acute and repeat `Medication`, `DrugSensitivity` (with its ingredients) and
//! `Vaccination`.

use chrono::NaiveDate;

use crate::error::Error;
use crate::redact::debug_redacted;
use crate::types::{Drug, opt_date, write_opt_date};
use crate::xml::{Element, Writer};

/// `Medication` (acute).
#[derive(Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Medication {
    /// `MedicationType`
    pub medication_type: Option<String>,
    /// `Drug`
    pub drug: Option<Drug>,
    /// `Dose`
    pub dose: Option<String>,
    /// `Quantity`
    pub quantity: Option<String>,
    /// `StartDate`
    pub start_date: Option<NaiveDate>,
    /// `EndDate`
    pub end_date: Option<NaiveDate>,
    /// `EndReason` (reads).
    pub end_reason: Option<String>,
    /// `RepeatIssue`
    pub repeat_issue: Option<String>,
}

debug_redacted!(Medication {
    medication_type,
    drug,
    dose,
    quantity,
    start_date,
    end_date,
    end_reason: redacted,
    repeat_issue
});

impl Medication {
    pub(crate) fn read(el: Element<'_, '_>) -> Result<Self, Error> {
        Ok(Self {
            medication_type: el.child_text("MedicationType"),
            drug: el.child("Drug").map(Drug::read).transpose()?,
            dose: el.child_text("Dose"),
            quantity: el.child_text("Quantity"),
            start_date: opt_date(el, "StartDate")?,
            end_date: opt_date(el, "EndDate")?,
            end_reason: el.child_text("EndReason"),
            repeat_issue: el.child_text("RepeatIssue"),
        })
    }

    pub(crate) fn write(&self, w: &mut Writer) {
        w.open("Medication");
        w.opt("MedicationType", self.medication_type.as_deref());
        if let Some(d) = &self.drug {
            d.write(w);
        }
        w.opt("Dose", self.dose.as_deref());
        w.opt("Quantity", self.quantity.as_deref());
        write_opt_date(w, "StartDate", self.start_date);
        write_opt_date(w, "EndDate", self.end_date);
        w.opt("EndReason", self.end_reason.as_deref());
        w.opt("RepeatIssue", self.repeat_issue.as_deref());
        w.close("Medication");
    }
}

/// `RepeatMedication`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct RepeatMedication {
    /// `Drug`
    pub drug: Option<Drug>,
    /// `Dose`
    pub dose: Option<String>,
    /// `Quantity`
    pub quantity: Option<String>,
    /// `StartDate`
    pub start_date: Option<NaiveDate>,
    /// `MaxIssues`
    pub max_issues: Option<String>,
    /// `ReviewDate`
    pub review_date: Option<NaiveDate>,
    /// `IssueDurationDays`
    pub issue_duration_days: Option<String>,
    /// `MedicationType`
    pub medication_type: Option<String>,
}

impl RepeatMedication {
    pub(crate) fn read(el: Element<'_, '_>) -> Result<Self, Error> {
        Ok(Self {
            drug: el.child("Drug").map(Drug::read).transpose()?,
            dose: el.child_text("Dose"),
            quantity: el.child_text("Quantity"),
            start_date: opt_date(el, "StartDate")?,
            max_issues: el.child_text("MaxIssues"),
            review_date: opt_date(el, "ReviewDate")?,
            issue_duration_days: el.child_text("IssueDurationDays"),
            medication_type: el.child_text("MedicationType"),
        })
    }

    pub(crate) fn write(&self, w: &mut Writer) {
        w.open("RepeatMedication");
        if let Some(d) = &self.drug {
            d.write(w);
        }
        w.opt("Dose", self.dose.as_deref());
        w.opt("Quantity", self.quantity.as_deref());
        write_opt_date(w, "StartDate", self.start_date);
        w.opt("MaxIssues", self.max_issues.as_deref());
        write_opt_date(w, "ReviewDate", self.review_date);
        w.opt("IssueDurationDays", self.issue_duration_days.as_deref());
        w.opt("MedicationType", self.medication_type.as_deref());
        w.close("RepeatMedication");
    }
}

/// `Ingredient` of a drug sensitivity (reads).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Ingredient {
    /// `Scheme`
    pub scheme: Option<String>,
    /// `IngredientID`
    pub ingredient_id: Option<String>,
    /// `Name`
    pub name: Option<String>,
    /// `Details`
    pub details: Option<String>,
}

/// `DrugSensitivity`: an allergy or sensitivity.
#[derive(Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct DrugSensitivity {
    /// `Type` (e.g. `Drug`, `Ingredient`).
    pub sensitivity_type: Option<String>,
    /// `Drug`
    pub drug: Option<Drug>,
    /// `Ingredient` (reads).
    pub ingredient: Option<Ingredient>,
    /// `FreeText`
    pub free_text: Option<String>,
    /// `EndDate`
    pub end_date: Option<NaiveDate>,
    /// `EndedWithUnknownDate` flag.
    pub ended_with_unknown_date: bool,
}

debug_redacted!(DrugSensitivity {
    sensitivity_type,
    drug,
    ingredient,
    free_text: redacted,
    end_date,
    ended_with_unknown_date
});

impl DrugSensitivity {
    pub(crate) fn read(el: Element<'_, '_>) -> Result<Self, Error> {
        Ok(Self {
            sensitivity_type: el.child_text("Type"),
            drug: el.child("Drug").map(Drug::read).transpose()?,
            ingredient: el.child("Ingredient").map(|i| Ingredient {
                scheme: i.attr("Scheme").map(str::to_owned),
                ingredient_id: i.attr("IngredientID").map(str::to_owned),
                name: i.attr("Name").map(str::to_owned),
                details: i.attr("Details").map(str::to_owned),
            }),
            free_text: el.child_text("FreeText"),
            end_date: opt_date(el, "EndDate")?,
            ended_with_unknown_date: el.has("EndedWithUnknownDate"),
        })
    }

    pub(crate) fn write(&self, w: &mut Writer) {
        w.open("DrugSensitivity");
        w.opt("Type", self.sensitivity_type.as_deref());
        if let Some(d) = &self.drug {
            d.write(w);
        }
        if let Some(i) = &self.ingredient {
            w.empty_attrs(
                "Ingredient",
                &[
                    ("Scheme", i.scheme.as_deref()),
                    ("IngredientID", i.ingredient_id.as_deref()),
                    ("Name", i.name.as_deref()),
                    ("Details", i.details.as_deref()),
                ],
            );
        }
        w.opt("FreeText", self.free_text.as_deref());
        write_opt_date(w, "EndDate", self.end_date);
        w.flag("EndedWithUnknownDate", self.ended_with_unknown_date);
        w.close("DrugSensitivity");
    }
}

/// `Vaccination`.
#[derive(Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Vaccination {
    /// `Name` (from SystmOne's Available Vaccinations list).
    pub name: Option<String>,
    /// `BatchNumber`
    pub batch_number: Option<String>,
    /// `Notes`
    pub notes: Option<String>,
    /// `PartType`
    pub part_type: Option<String>,
    /// `Dosage`
    pub dosage: Option<String>,
}

debug_redacted!(Vaccination {
    name,
    batch_number,
    notes: redacted,
    part_type,
    dosage
});

impl Vaccination {
    pub(crate) fn read(el: Element<'_, '_>) -> Self {
        Self {
            name: el.child_text("Name"),
            batch_number: el.child_text("BatchNumber"),
            notes: el.child_text("Notes"),
            part_type: el.child_text("PartType"),
            dosage: el.child_text("Dosage"),
        }
    }

    pub(crate) fn write(&self, w: &mut Writer) {
        w.open("Vaccination");
        w.opt("Name", self.name.as_deref());
        w.opt("BatchNumber", self.batch_number.as_deref());
        w.opt("Notes", self.notes.as_deref());
        w.opt("PartType", self.part_type.as_deref());
        w.opt("Dosage", self.dosage.as_deref());
        w.close("Vaccination");
    }
}
