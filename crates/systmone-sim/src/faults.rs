//! Fault injection: scripted per request, or drawn at random from a seeded schedule.
//!
//! A scripted fault applies to the next request whose function matches its [`FaultTarget`]
//! (first come, first served, each used once). When no scripted fault matches, the random
//! schedule (if any) draws one: the same seed and the same sequence of requests give the same
//! faults, so a failing run can be replayed.

use std::collections::VecDeque;
use std::time::Duration;

/// Something going wrong with one request.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Fault {
    /// The request is swallowed: nothing is applied, no response is sent, the connection stays
    /// open (as for a throttled request).
    NoResponse,
    /// The response is sent after this extra delay (the request is handled normally). Other
    /// requests to the same gateway wait meanwhile: the client does one thing at a time.
    Delay(Duration),
    /// The connection is closed before anything is applied.
    CloseBeforeApply,
    /// The request is applied (a write IS in the journal) and then the connection is closed
    /// without a response: the caller never hears.
    CloseAfterApply,
    /// The request is applied, then a newline-framed document that is not a valid response is
    /// sent instead of the real one.
    MalformedResponse,
    /// Nothing is applied and the non-fatal error "record in use" (`PermanentError=false`) is
    /// answered.
    RecordInUse,
}

impl Fault {
    /// Short name used in logs.
    pub fn name(&self) -> &'static str {
        match self {
            Self::NoResponse => "no-response",
            Self::Delay(_) => "delay",
            Self::CloseBeforeApply => "close-before-apply",
            Self::CloseAfterApply => "close-after-apply",
            Self::MalformedResponse => "malformed-response",
            Self::RecordInUse => "record-in-use",
        }
    }
}

/// Which requests a scripted fault applies to.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum FaultTarget {
    /// The next request, whatever its function.
    AnyFunction,
    /// The next request for this wire function name (e.g. `UpdatePatientRecord`).
    Function(String),
}

impl FaultTarget {
    /// The next request for `function`.
    pub fn function(function: impl Into<String>) -> Self {
        Self::Function(function.into())
    }

    fn matches(&self, function: &str) -> bool {
        match self {
            Self::AnyFunction => true,
            Self::Function(f) => f == function,
        }
    }
}

/// Probabilities (each 0.0..=1.0, summed in this order) of each fault per request, for the
/// seeded random schedule.
#[derive(Clone, Debug, Default, PartialEq)]
#[non_exhaustive]
pub struct FaultProbabilities {
    /// Chance of [`Fault::NoResponse`].
    pub no_response: f64,
    /// Chance of [`Fault::Delay`] by [`FaultProbabilities::delay_by`].
    pub delay: f64,
    /// The delay used by [`FaultProbabilities::delay`].
    pub delay_by: Duration,
    /// Chance of [`Fault::CloseBeforeApply`].
    pub close_before_apply: f64,
    /// Chance of [`Fault::CloseAfterApply`].
    pub close_after_apply: f64,
    /// Chance of [`Fault::MalformedResponse`].
    pub malformed_response: f64,
    /// Chance of [`Fault::RecordInUse`].
    pub record_in_use: f64,
    /// Only requests for these functions are eligible (empty: every function).
    pub functions: Vec<String>,
}

impl FaultProbabilities {
    /// No faults at all (start here and set fields).
    pub fn none() -> Self {
        Self::default()
    }

    /// Each fault mode with the same chance `p` (a delay lasts `delay_by`).
    pub fn uniform(p: f64, delay_by: Duration) -> Self {
        Self {
            no_response: p,
            delay: p,
            delay_by,
            close_before_apply: p,
            close_after_apply: p,
            malformed_response: p,
            record_in_use: p,
            functions: Vec::new(),
        }
    }

    /// Sets the chance of [`Fault::NoResponse`].
    #[must_use]
    pub fn with_no_response(mut self, p: f64) -> Self {
        self.no_response = p;
        self
    }

    /// Sets the chance of [`Fault::Delay`] and the delay.
    #[must_use]
    pub fn with_delay(mut self, p: f64, by: Duration) -> Self {
        self.delay = p;
        self.delay_by = by;
        self
    }

    /// Sets the chance of [`Fault::CloseBeforeApply`].
    #[must_use]
    pub fn with_close_before_apply(mut self, p: f64) -> Self {
        self.close_before_apply = p;
        self
    }

    /// Sets the chance of [`Fault::CloseAfterApply`].
    #[must_use]
    pub fn with_close_after_apply(mut self, p: f64) -> Self {
        self.close_after_apply = p;
        self
    }

    /// Sets the chance of [`Fault::MalformedResponse`].
    #[must_use]
    pub fn with_malformed_response(mut self, p: f64) -> Self {
        self.malformed_response = p;
        self
    }

    /// Sets the chance of [`Fault::RecordInUse`].
    #[must_use]
    pub fn with_record_in_use(mut self, p: f64) -> Self {
        self.record_in_use = p;
        self
    }

    /// Restricts the schedule to these functions.
    #[must_use]
    pub fn only_for<I, S>(mut self, functions: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.functions = functions.into_iter().map(Into::into).collect();
        self
    }

    fn draw(&self, u: f64) -> Option<Fault> {
        let table = [
            (self.no_response, Fault::NoResponse),
            (self.delay, Fault::Delay(self.delay_by)),
            (self.close_before_apply, Fault::CloseBeforeApply),
            (self.close_after_apply, Fault::CloseAfterApply),
            (self.malformed_response, Fault::MalformedResponse),
            (self.record_in_use, Fault::RecordInUse),
        ];
        let mut cumulative = 0.0;
        for (p, fault) in table {
            if p.is_finite() && p > 0.0 {
                cumulative += p;
                if u < cumulative {
                    return Some(fault);
                }
            }
        }
        None
    }
}

/// SplitMix64: a tiny, well-known, seedable generator; plenty for fault schedules.
#[derive(Clone, Debug)]
struct SplitMix64(u64);

impl SplitMix64 {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `[0, 1)`.
    fn next_unit(&mut self) -> f64 {
        // 53 random bits: exact in an f64. The casts are lossless for values below 2^53.
        #[allow(clippy::cast_precision_loss)]
        let value = (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
        value
    }
}

/// A gateway's fault plan: a script of one-shot faults and an optional seeded random schedule.
#[derive(Clone, Debug, Default)]
pub struct FaultPlan {
    script: VecDeque<(FaultTarget, Fault)>,
    random: Option<(FaultProbabilities, SplitMix64)>,
}

impl FaultPlan {
    /// Adds a one-shot fault for the next request matching `target` (after earlier scripted
    /// ones).
    pub fn push(&mut self, target: FaultTarget, fault: Fault) {
        self.script.push_back((target, fault));
    }

    /// Sets (or with `None`, removes) the random schedule.
    pub fn set_random(&mut self, schedule: Option<(FaultProbabilities, u64)>) {
        self.random = schedule.map(|(p, seed)| (p, SplitMix64(seed)));
    }

    /// Removes every scripted fault and the random schedule.
    pub fn clear(&mut self) {
        self.script.clear();
        self.random = None;
    }

    /// Scripted faults not used yet.
    pub fn pending(&self) -> usize {
        self.script.len()
    }

    /// The fault for a request to `function`, consuming a scripted one or drawing from the
    /// random schedule.
    pub fn next_fault(&mut self, function: &str) -> Option<Fault> {
        if let Some(index) = self.script.iter().position(|(t, _)| t.matches(function)) {
            return self.script.remove(index).map(|(_, fault)| fault);
        }
        let (probabilities, rng) = self.random.as_mut()?;
        if !probabilities.functions.is_empty()
            && !probabilities.functions.iter().any(|f| f == function)
        {
            return None;
        }
        let u = rng.next_unit();
        probabilities.draw(u)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripted_faults_apply_once_to_the_matching_function() {
        let mut plan = FaultPlan::default();
        plan.push(
            FaultTarget::function("UpdatePatientRecord"),
            Fault::CloseAfterApply,
        );
        plan.push(FaultTarget::AnyFunction, Fault::NoResponse);
        assert_eq!(plan.next_fault("GetFunctions"), Some(Fault::NoResponse));
        assert_eq!(plan.next_fault("GetFunctions"), None);
        assert_eq!(
            plan.next_fault("UpdatePatientRecord"),
            Some(Fault::CloseAfterApply)
        );
        assert_eq!(plan.next_fault("UpdatePatientRecord"), None);
    }

    #[test]
    fn seeded_schedules_replay_and_roughly_follow_the_probabilities() {
        let probabilities = FaultProbabilities::uniform(0.1, Duration::from_millis(5));
        let run = |seed| {
            let mut plan = FaultPlan::default();
            plan.set_random(Some((probabilities.clone(), seed)));
            (0..1000)
                .map(|_| plan.next_fault("PatientSearch"))
                .collect::<Vec<_>>()
        };
        let a = run(7);
        assert_eq!(a, run(7));
        assert_ne!(a, run(8));
        let faults = a.iter().filter(|f| f.is_some()).count();
        assert!((500..700).contains(&faults), "{faults}");
        let kinds: std::collections::HashSet<_> = a.iter().flatten().map(Fault::name).collect();
        assert_eq!(kinds.len(), 6);
    }

    #[test]
    fn schedules_can_be_limited_to_functions() {
        let mut plan = FaultPlan::default();
        plan.set_random(Some((
            FaultProbabilities {
                no_response: 1.0,
                ..FaultProbabilities::none()
            }
            .only_for(["UpdatePatientRecord"]),
            1,
        )));
        assert_eq!(plan.next_fault("GetFunctions"), None);
        assert_eq!(
            plan.next_fault("UpdatePatientRecord"),
            Some(Fault::NoResponse)
        );
    }
}
