//! Fictitious directories of any size, for benches, demos and property tests.
//!
//! Services are spread uniformly over a 170 km square of southern England (51.0–52.5 N,
//! 3.0–0.5 W), are named from a small vocabulary, carry one of [`TERM_COUNT`] taxonomy terms,
//! one weekly session and sometimes a cost. Generation is deterministic for a seed and cheap (no allocation beyond the services).

use crate::model::{
    Attribute, CostOption, Frequency, Location, LocationType, Schedule, Service, ServiceAtLocation,
    ServiceStatus, TaxonomyTerm, number,
};

/// Words services are named and described with.
pub const WORDS: &[&str] = &[
    "walking",
    "group",
    "debt",
    "advice",
    "carers",
    "support",
    "singing",
    "choir",
    "art",
    "club",
    "yoga",
    "chair",
    "cookery",
    "lunch",
    "befriending",
    "tea",
    "talk",
    "football",
    "swimming",
    "gardening",
    "allotment",
    "knitting",
    "reading",
    "library",
    "digital",
    "skills",
    "benefits",
    "housing",
    "dementia",
    "cafe",
    "men",
    "shed",
    "women",
    "youth",
    "family",
    "parents",
    "baby",
    "bereavement",
    "anxiety",
    "wellbeing",
    "dance",
    "tai",
    "chi",
    "cycling",
    "running",
    "music",
    "drama",
    "photography",
    "volunteering",
    "employment",
    "english",
    "language",
    "food",
    "bank",
    "community",
    "kitchen",
    "pantry",
    "fitness",
    "pilates",
    "bowls",
    "history",
    "nature",
    "conservation",
    "crafts",
    "pottery",
    "sewing",
    "repair",
    "computer",
    "mindfulness",
    "peer",
];

/// Number of taxonomy terms used.
pub const TERM_COUNT: usize = 24;

/// The id of taxonomy term `index` (`0..TERM_COUNT`).
pub fn term_id(index: usize) -> String {
    format!("7e000000-0000-4000-8000-{index:012x}")
}

/// The id of the generated taxonomy.
pub const TAXONOMY_ID: &str = "7a000000-0000-4000-8000-000000000001";

/// A small deterministic pseudo-random generator (xorshift64*).
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// Seeds the generator (a zero seed is replaced).
    pub fn new(seed: u64) -> Self {
        Self(seed.max(1))
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A number in `0..bound` (`bound` > 0).
    pub fn below(&mut self, bound: usize) -> usize {
        // Modulo bias is irrelevant for fictitious data.
        usize::try_from(self.next_u64() % bound.max(1) as u64).unwrap_or(0)
    }

    /// A number in `[low, high)`.
    pub fn between(&mut self, low: f64, high: f64) -> f64 {
        // 53 random bits to a fraction in [0, 1).
        #[allow(clippy::cast_precision_loss)]
        let fraction = (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
        low + (high - low) * fraction
    }
}

/// The fictitious taxonomy term `index`.
pub fn term(index: usize) -> TaxonomyTerm {
    let mut term = TaxonomyTerm::new(
        term_id(index),
        format!("Category {index}"),
        "Fictitious category",
    );
    term.taxonomy_id = Some(TAXONOMY_ID.to_owned());
    term
}

/// `count` fictitious services from `seed`.
pub fn services(count: usize, seed: u64) -> Vec<Service> {
    let mut rng = Rng::new(seed);
    let days = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"];
    (0..count)
        .map(|n| {
            let id = format!(
                "5e{:06x}-0000-4000-8000-{:012x}",
                n >> 24,
                n & 0xff_ffff_ffff
            );
            let name = (0..3)
                .map(|_| WORDS[rng.below(WORDS.len())])
                .collect::<Vec<_>>()
                .join(" ");
            let mut service = Service::new(id.clone(), name, ServiceStatus::Active);
            service.description = Some(
                (0..10)
                    .map(|_| WORDS[rng.below(WORDS.len())])
                    .collect::<Vec<_>>()
                    .join(" "),
            );
            let minimum = rng.below(4) * 16;
            service.minimum_age = Some(minimum.into());
            if rng.below(3) == 0 {
                service.maximum_age = Some((minimum + 10 + rng.below(60)).into());
            }
            let mut schedule = Schedule::new(format!("5c{}", &id[2..]));
            schedule.freq = Some(Frequency::Weekly);
            schedule.byday = Some(days[rng.below(7)].to_owned());
            let opens = 8 + rng.below(11);
            schedule.opens_at = Some(format!("{opens:02}:00"));
            schedule.closes_at = Some(format!("{:02}:30", opens + 1 + rng.below(3)));
            service.schedules.push(schedule);
            let mut location = Location::new(format!("10{}", &id[2..]), LocationType::Physical);
            location.latitude = number(rng.between(51.0, 52.5));
            location.longitude = number(rng.between(-3.0, -0.5));
            service.service_at_locations.push(ServiceAtLocation {
                id: format!("5a{}", &id[2..]),
                service_id: None,
                location_id: None,
                location: Some(location),
                extra: Default::default(),
            });
            service.attributes.push(Attribute::for_term(
                format!("a7{}", &id[2..]),
                term(rng.below(TERM_COUNT)),
            ));
            if rng.below(4) == 0 {
                service.cost_options.push(CostOption {
                    id: format!("c0{}", &id[2..]),
                    service_id: None,
                    valid_from: None,
                    valid_to: None,
                    option: None,
                    amount: number(f64::from(u8::try_from(1 + rng.below(20)).unwrap_or(1))),
                    amount_description: None,
                    extra: Default::default(),
                });
            }
            service
        })
        .collect()
}
