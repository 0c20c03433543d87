//! An in-memory ORUK directory with search indexes.
//!
//! [`Directory`] holds fully nested services and indexes them once:
//!
//! * an inverted text index (name, organization name, taxonomy term names, description;
//!   weighted, ranked by a tf-idf style score),
//! * taxonomy maps (`taxonomy_term_id` → services, `taxonomy_id` → services),
//! * per-day schedule lists plus per-service opening sessions (minutes since midnight),
//! * age limits and free/paid flags per service,
//! * a uniform latitude/longitude grid of service locations for distance queries.
//!
//! Query semantics (filters are cumulative, boolean AND, as the ORUK API requires):
//!
//! * `search`: every word of the query must occur in the service's indexed text;
//! * `taxonomy_term_id` / `taxonomy_id`: the service carries that term / a term of that taxonomy;
//! * `minimum_age` / `maximum_age`: the service's age range **overlaps** the requested range (a
//!   missing service limit is open-ended). Peers (Outpost, DfE) do the same; the literal spec
//!   wording compares the limits themselves, which rejects services a person of that age can use;
//! * `day`, `start_time`, `end_time`: some schedule session is on that day, opens at or after
//!   `start_time` and closes at or before `end_time` (the spec's "start time of at least" /
//!   "end time at or below");
//! * `cost`: `free` (no cost option with an amount above zero) or `paid`; `maximum_cost`: the
//!   cheapest priced option is at most this (a service without one costs 0);
//! * `modified_after` (HSDS 3.0): the service's `last_modified` is at or after it; a service
//!   without a readable `last_modified` is left out (nothing says it changed);
//! * `status`: services whose `status` is not `active` are left out unless the query names the
//!   statuses wanted ([`SearchQuery::statuses`]; the API accepts it from authenticated callers);
//! * `postcode` (or `latitude`+`longitude`) + `proximity`: some location of the service lies
//!   within `proximity` metres of the point; without `proximity` results are only ordered by
//!   distance. A `postcode` also keeps only services whose `service_area` contains it, when
//!   the service has area data: postcode areas, districts, sectors or full postcodes listed
//!   (comma-, semicolon- or line-separated) in a text `extent` or the UK `service_area` text,
//!   or GeoJSON polygons (`extent_type` `geojson`, see [`extent`]) that contain the postcode's
//!   point from the [`Geocoder`] (holes respected). An extent that does not parse is a
//!   validation warning and is not area data;
//! * the index is updated in place per change ([`incremental`]), never rebuilt per edit.
//!
//! Ranking: text score (descending) when `search` is given, then distance (ascending) when a
//! point is given, then name and id. Services whose listing is not public (see
//! [`crate::marketplace::ListingState`]) never appear.
//!
//! # Plugging in a postcode gazetteer
//!
//! Postcodes are turned into points by a [`Geocoder`]. The default, [`DataGeocoder`], knows the
//! postcodes of the directory's own addresses (their coordinates, averaged). For any postcode,
//! load a gazetteer such as the ONS Postcode Directory or OS Code-Point Open into a
//! [`PostcodeTable`] (`PostcodeTable::from_csv_reader` reads `postcode,latitude,longitude`
//! columns) or implement [`Geocoder`] over your own store, and pass it to
//! [`DirectoryBuilder::geocoder`]. [`FallbackGeocoder`] tries a gazetteer first and the data
//! second.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use crate::error::OrukError;
use crate::marketplace::ListingState;
use crate::model::{Service, ServiceAtLocationItem, ServiceStatus, Taxonomy, TaxonomyTerm};
use crate::page::{Page, PageRequest};

pub mod extent;
mod facts;
mod filters;
mod geo;
pub mod incremental;

pub use extent::{AreaExtent, ExtentError};
pub use facts::tokenize;
use facts::{day_bit, weighted_words};
use filters::area_contains;
pub use filters::{CostFilter, MAX_COST, Origin, SearchQuery};
pub use geo::{DataGeocoder, FallbackGeocoder, GeoPoint, Geocoder, PostcodeTable};
use geo::{EARTH_RADIUS_M, MAX_GRID_CELLS, grid_cell};

/// One ranked result.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub struct SearchHit<'a> {
    /// The service (fully nested).
    pub service: &'a Service,
    /// Text relevance (0 without a text query).
    pub score: f64,
    /// Distance in metres from the query point to the nearest location, when a point was given
    /// and the service has located sites.
    pub distance_metres: Option<f64>,
}

#[derive(Debug, Clone, Copy)]
struct Session {
    days: u8,
    opens: Option<u16>,
    closes: Option<u16>,
}

/// The documents containing a word (ascending) and the word's weight in each.
#[derive(Debug, Clone, Default)]
struct Postings {
    docs: Vec<u32>,
    weights: Vec<u16>,
}

/// What search needs to know about one service, derived once.
#[derive(Debug, Clone)]
struct Facts {
    minimum_age: f64,
    maximum_age: f64,
    paid: bool,
    sessions: Vec<Session>,
    /// (index into `service_at_locations`, point).
    points: Vec<(u16, GeoPoint)>,
    status: ServiceStatus,
    /// The cheapest priced option (0 without one).
    cheapest: f64,
    /// Postcode areas/districts/sectors the service covers (empty: no area data).
    areas: Vec<String>,
    /// GeoJSON polygons the service covers (the extents that parse).
    shapes: Vec<AreaExtent>,
    /// `last_modified`, when it is an RFC 3339 date-time.
    last_modified: Option<chrono::DateTime<chrono::Utc>>,
}

/// A query after the directory has resolved its postcode and words.
struct Prepared {
    words: Vec<String>,
    origin: Option<GeoPoint>,
    radius: Option<f64>,
}

/// Builds a [`Directory`].
#[must_use]
#[derive(Default)]
pub struct DirectoryBuilder {
    taxonomies: Vec<Taxonomy>,
    geocoder: Option<Arc<dyn Geocoder>>,
}

impl DirectoryBuilder {
    /// Taxonomies to serve on `/taxonomies` (their terms join `/taxonomy_terms` and map terms
    /// to taxonomies for `taxonomy_id` search).
    pub fn taxonomies(mut self, taxonomies: Vec<Taxonomy>) -> Self {
        self.taxonomies = taxonomies;
        self
    }

    /// The postcode geocoder (default: [`DataGeocoder`] over the services).
    pub fn geocoder(mut self, geocoder: Arc<dyn Geocoder>) -> Self {
        self.geocoder = Some(geocoder);
        self
    }

    /// Indexes the services. A service whose id repeats an earlier one is dropped (counted in
    /// [`Directory::dropped_duplicates`]).
    pub fn build(self, services: Vec<Service>) -> Directory {
        Directory::index(services, self.taxonomies, self.geocoder)
    }
}

/// An indexed, in-memory ORUK directory.
pub struct Directory {
    services: Vec<Service>,
    by_id: HashMap<String, u32>,
    facts: Vec<Facts>,
    states: Vec<ListingState>,
    text: HashMap<String, Postings>,
    by_term: HashMap<String, Vec<u32>>,
    by_taxonomy: HashMap<String, Vec<u32>>,
    by_day: [Vec<u32>; 7],
    grid: HashMap<(i32, i32), Vec<u32>>,
    sal_index: HashMap<String, (u32, u16)>,
    taxonomies: BTreeMap<String, Taxonomy>,
    terms: BTreeMap<String, TaxonomyTerm>,
    geocoder: Arc<dyn Geocoder>,
    dropped_duplicates: usize,
    /// Documents ordered by (name, id): the ranking of equal scores and distances.
    name_order: Vec<u32>,
    /// Position of each document in `name_order`.
    name_rank: Vec<u32>,
    /// Taxonomy of each term of the configured taxonomies.
    term_taxonomy: HashMap<String, String>,
    /// Slots of removed services, reused by the next insert ([`incremental`]).
    vacant: Vec<u32>,
}

impl std::fmt::Debug for Directory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Directory")
            .field("services", &self.services.len())
            .field("words", &self.text.len())
            .field("taxonomy_terms", &self.terms.len())
            .finish_non_exhaustive()
    }
}

fn push_unique(list: &mut Vec<u32>, doc: u32) {
    if list.last() != Some(&doc) {
        list.push(doc);
    }
}

impl Directory {
    /// A builder for taxonomies and a geocoder.
    pub fn builder() -> DirectoryBuilder {
        DirectoryBuilder::default()
    }

    /// Indexes services with the default geocoder and no extra taxonomies.
    pub fn new(services: Vec<Service>) -> Self {
        Self::builder().build(services)
    }

    /// Parses a JSON array of fully nested services and indexes them.
    pub fn from_json(json: &[u8]) -> Result<Self, OrukError> {
        let services: Vec<Service> = serde_json::from_slice(json)?;
        Ok(Self::new(services))
    }

    fn index(
        services: Vec<Service>,
        taxonomies: Vec<Taxonomy>,
        geocoder: Option<Arc<dyn Geocoder>>,
    ) -> Self {
        let mut kept = Vec::with_capacity(services.len());
        let mut by_id = HashMap::with_capacity(services.len());
        let mut dropped_duplicates = 0;
        for service in services {
            if by_id.contains_key(&service.id) || kept.len() >= u32::MAX as usize {
                dropped_duplicates += 1;
                continue;
            }
            by_id.insert(
                service.id.clone(),
                u32::try_from(kept.len()).unwrap_or(u32::MAX),
            );
            kept.push(service);
        }
        let services = kept;
        let mut terms: BTreeMap<String, TaxonomyTerm> = BTreeMap::new();
        let mut term_taxonomy: HashMap<String, String> = HashMap::new();
        let mut taxonomy_map = BTreeMap::new();
        for taxonomy in taxonomies {
            for term in &taxonomy.taxonomy_terms {
                term_taxonomy.insert(term.id.clone(), taxonomy.id.clone());
                terms.entry(term.id.clone()).or_insert_with(|| term.clone());
            }
            taxonomy_map.insert(taxonomy.id.clone(), taxonomy);
        }
        let mut directory = Self {
            by_id,
            facts: Vec::with_capacity(services.len()),
            states: vec![ListingState::Public; services.len()],
            text: HashMap::new(),
            by_term: HashMap::new(),
            by_taxonomy: HashMap::new(),
            by_day: Default::default(),
            grid: HashMap::new(),
            sal_index: HashMap::new(),
            taxonomies: taxonomy_map,
            terms,
            geocoder: match geocoder {
                Some(geocoder) => geocoder,
                None => Arc::new(DataGeocoder::from_services(&services)),
            },
            dropped_duplicates,
            name_order: Vec::new(),
            name_rank: Vec::new(),
            services: Vec::new(),
            term_taxonomy: HashMap::new(),
            vacant: Vec::new(),
        };
        for (doc, service) in services.iter().enumerate() {
            let doc = u32::try_from(doc).unwrap_or(u32::MAX);
            for (word, weight) in weighted_words(service) {
                let postings = directory.text.entry(word).or_default();
                postings.docs.push(doc);
                postings.weights.push(weight);
            }
            for attribute in &service.attributes {
                if let Some(term_id) = attribute.term_id() {
                    push_unique(
                        directory.by_term.entry(term_id.to_owned()).or_default(),
                        doc,
                    );
                    let taxonomy = attribute
                        .taxonomy_term
                        .as_ref()
                        .and_then(|t| t.taxonomy_id.clone())
                        .or_else(|| term_taxonomy.get(term_id).cloned());
                    if let Some(taxonomy) = taxonomy {
                        push_unique(directory.by_taxonomy.entry(taxonomy).or_default(), doc);
                    }
                }
                if let Some(term) = &attribute.taxonomy_term {
                    directory
                        .terms
                        .entry(term.id.clone())
                        .or_insert_with(|| term.clone());
                }
            }
            let facts = Facts::of(service);
            for (day, list) in directory.by_day.iter_mut().enumerate() {
                if facts.sessions.iter().any(|s| s.days & (1 << day) != 0) {
                    list.push(doc);
                }
            }
            for (_, point) in &facts.points {
                push_unique(directory.grid.entry(point.cell()).or_default(), doc);
            }
            for (index, sal) in service.service_at_locations.iter().enumerate() {
                if let Ok(index) = u16::try_from(index) {
                    directory
                        .sal_index
                        .entry(sal.id.clone())
                        .or_insert((doc, index));
                }
            }
            directory.facts.push(facts);
        }
        let mut name_order: Vec<u32> =
            (0..u32::try_from(services.len()).unwrap_or(u32::MAX)).collect();
        name_order.sort_unstable_by(|a, b| {
            let (a, b) = (&services[*a as usize], &services[*b as usize]);
            a.name.cmp(&b.name).then_with(|| a.id.cmp(&b.id))
        });
        let mut name_rank = vec![0u32; services.len()];
        for (rank, doc) in name_order.iter().enumerate() {
            name_rank[*doc as usize] = u32::try_from(rank).unwrap_or(u32::MAX);
        }
        directory.name_order = name_order;
        directory.name_rank = name_rank;
        directory.services = services;
        directory.term_taxonomy = term_taxonomy;
        directory
    }

    /// Number of services.
    pub fn len(&self) -> usize {
        self.services.len() - self.vacant.len()
    }

    /// Whether the directory is empty.
    pub fn is_empty(&self) -> bool {
        self.services.is_empty()
    }

    /// Services dropped at build time because their id repeated an earlier service.
    pub fn dropped_duplicates(&self) -> usize {
        self.dropped_duplicates
    }

    /// Every service slot, in load order (including those not in public search, and empty
    /// placeholders in the slots of removed services, which are never found).
    pub fn services(&self) -> &[Service] {
        &self.services
    }

    /// Sets a service's marketplace listing state; `false` if the id is unknown.
    pub fn set_listing_state(&mut self, service_id: &str, state: ListingState) -> bool {
        match self.by_id.get(service_id) {
            Some(&doc) => {
                self.states[doc as usize] = state;
                true
            }
            None => false,
        }
    }

    /// A service's listing state.
    pub fn listing_state(&self, service_id: &str) -> Option<ListingState> {
        self.by_id
            .get(service_id)
            .map(|&doc| self.states[doc as usize])
    }

    /// A service by id, unless its listing is suspended.
    pub fn service(&self, id: &str) -> Option<&Service> {
        let doc = *self.by_id.get(id)? as usize;
        self.states[doc]
            .reachable_by_id()
            .then(|| &self.services[doc])
    }

    /// A service-at-location by id with its service (list form), unless the service's listing
    /// is suspended.
    pub fn service_at_location(&self, id: &str) -> Option<ServiceAtLocationItem> {
        let (doc, index) = *self.sal_index.get(id)?;
        let doc = doc as usize;
        if !self.states[doc].reachable_by_id() {
            return None;
        }
        let service = &self.services[doc];
        let link = service.service_at_locations.get(usize::from(index))?;
        Some(self.sal_item(service, link))
    }

    fn sal_item(
        &self,
        service: &Service,
        link: &crate::model::ServiceAtLocation,
    ) -> ServiceAtLocationItem {
        let mut link = link.clone();
        if link.service_id.is_none() {
            link.service_id = Some(service.id.clone());
        }
        if link.location_id.is_none() {
            link.location_id = link.location.as_ref().map(|l| l.id.clone());
        }
        ServiceAtLocationItem {
            link,
            service: service.to_list_item(),
        }
    }

    /// Taxonomies, by id.
    pub fn taxonomies(&self) -> impl ExactSizeIterator<Item = &Taxonomy> {
        self.taxonomies.values()
    }

    /// A taxonomy by id.
    pub fn taxonomy(&self, id: &str) -> Option<&Taxonomy> {
        self.taxonomies.get(id)
    }

    /// Taxonomy terms (from the taxonomies and from the services' attributes), by id.
    pub fn taxonomy_terms(&self) -> impl ExactSizeIterator<Item = &TaxonomyTerm> {
        self.terms.values()
    }

    /// A taxonomy term by id.
    pub fn taxonomy_term(&self, id: &str) -> Option<&TaxonomyTerm> {
        self.terms.get(id)
    }

    /// The geocoder in use.
    pub fn geocoder(&self) -> &dyn Geocoder {
        self.geocoder.as_ref()
    }

    fn prepare(&self, query: &SearchQuery) -> Result<Prepared, OrukError> {
        let origin = match &query.origin {
            None => None,
            Some(Origin::Point(point)) => Some(*point),
            Some(Origin::Postcode(postcode)) => {
                Some(self.geocoder.locate(postcode).ok_or_else(|| {
                    OrukError::bad_parameter(
                        "postcode",
                        "could not be located (not in the directory's gazetteer)",
                    )
                })?)
            }
        };
        let mut words: Vec<String> = query
            .text
            .as_deref()
            .map(|t| tokenize(t).collect())
            .unwrap_or_default();
        words.sort();
        words.dedup();
        // A query built in code (its fields are public) gets the same ranges as a query string.
        if let Some(radius) = query.proximity_metres
            && !(radius > 0.0 && radius <= crate::query::MAX_PROXIMITY_METRES)
        {
            return Err(OrukError::bad_parameter(
                "proximity",
                format!(
                    "expected a number of metres above 0 and at most {}",
                    crate::query::MAX_PROXIMITY_METRES
                ),
            ));
        }
        if let Some(point) = origin
            && GeoPoint::new(point.latitude, point.longitude).is_none()
        {
            return Err(OrukError::bad_parameter(
                "latitude",
                "latitude/longitude outside the WGS84 range",
            ));
        }
        Ok(Prepared {
            words,
            origin,
            radius: query.proximity_metres,
        })
    }

    /// Candidate documents from the indexes, sorted; `None` means "every document".
    fn candidates(&self, query: &SearchQuery, prepared: &Prepared) -> Option<Vec<u32>> {
        let empty: &[u32] = &[];
        let mut lists: Vec<std::borrow::Cow<'_, [u32]>> = Vec::new();
        for word in &prepared.words {
            match self.text.get(word) {
                Some(postings) => lists.push(postings.docs.as_slice().into()),
                None => return Some(Vec::new()),
            }
        }
        if let Some(term) = &query.taxonomy_term_id {
            lists.push(self.by_term.get(term).map_or(empty, Vec::as_slice).into());
        }
        if let Some(taxonomy) = &query.taxonomy_id {
            lists.push(
                self.by_taxonomy
                    .get(taxonomy)
                    .map_or(empty, Vec::as_slice)
                    .into(),
            );
        }
        if let Some(day) = query.day {
            lists.push(
                self.by_day[day.num_days_from_monday() as usize]
                    .as_slice()
                    .into(),
            );
        }
        if let (Some(origin), Some(radius)) = (prepared.origin, prepared.radius)
            && let Some(docs) = self.grid_candidates(origin, radius)
        {
            lists.push(docs.into());
        }
        if lists.is_empty() {
            return None;
        }
        lists.sort_by_key(|list| list.len());
        let mut result: Vec<u32> = lists[0].to_vec();
        for list in &lists[1..] {
            if result.is_empty() {
                break;
            }
            result.retain(|doc| list.binary_search(doc).is_ok());
        }
        Some(result)
    }

    /// Documents with a location in a grid cell that a circle of `radius` metres around
    /// `origin` touches, sorted; `None` means "scan every candidate" (a circle over the
    /// antimeridian, or one touching more than [`MAX_GRID_CELLS`] cells).
    ///
    /// Bounded by construction: the latitude and longitude ranges are clamped to the WGS84
    /// range before any cell is computed, so every cell index lies within ±3,600 and the cell
    /// count within 7,201 × 3,601, whatever the radius or point (a caller's own [`GeoPoint`]
    /// or [`Geocoder`] included).
    fn grid_candidates(&self, origin: GeoPoint, radius: f64) -> Option<Vec<u32>> {
        let (lat, lon) = (origin.latitude, origin.longitude);
        let in_range = (-90.0..=90.0).contains(&lat)
            && (-180.0..=180.0).contains(&lon)
            && radius.is_finite()
            && radius >= 0.0;
        if !in_range {
            return None;
        }
        // Angular radius, widened a little so rounding never loses a point on the edge.
        let angle = (radius / EARTH_RADIUS_M * 1.001).to_degrees() + 1e-9;
        let (lat_lo, lat_hi) = ((lat - angle).max(-90.0), (lat + angle).min(90.0));
        let (lon_lo, lon_hi) = if lat.abs() + angle >= 90.0 {
            // The circle covers a pole: every longitude.
            (-180.0, 180.0)
        } else {
            // The widest longitude offset of a circle of angular radius `a` around latitude
            // `φ` is asin(sin a / cos φ).
            let ratio = angle.to_radians().sin() / lat.to_radians().cos();
            if ratio >= 1.0 {
                (-180.0, 180.0)
            } else {
                let dlon = ratio.asin().to_degrees() * 1.001 + 1e-9;
                if lon - dlon < -180.0 || lon + dlon > 180.0 {
                    return None;
                }
                (lon - dlon, lon + dlon)
            }
        };
        let (lat0, lat1) = (grid_cell(lat_lo), grid_cell(lat_hi));
        let (lon0, lon1) = (grid_cell(lon_lo), grid_cell(lon_hi));
        // All four lie within ±3,600 (bounded degrees / 0.05), so none of this can overflow.
        let cells =
            (i64::from(lat1) - i64::from(lat0) + 1) * (i64::from(lon1) - i64::from(lon0) + 1);
        if cells > MAX_GRID_CELLS {
            // A huge radius: filtering every candidate by distance is cheaper.
            return None;
        }
        let mut docs = Vec::new();
        for lat in lat0..=lat1 {
            for lon in lon0..=lon1 {
                if let Some(list) = self.grid.get(&(lat, lon)) {
                    docs.extend_from_slice(list);
                }
            }
        }
        docs.sort_unstable();
        docs.dedup();
        Some(docs)
    }

    /// Checks every non-text filter against one service's facts; returns its distance.
    fn passes(
        &self,
        facts: &Facts,
        query: &SearchQuery,
        prepared: &Prepared,
    ) -> Option<Option<f64>> {
        match &query.statuses {
            None if facts.status != ServiceStatus::Active => return None,
            Some(list) if !list.is_empty() && !list.contains(&facts.status) => return None,
            _ => {}
        }
        if let Some(max) = query.maximum_cost
            && facts.cheapest > max
        {
            return None;
        }
        if let Some(after) = query.modified_after
            && facts.last_modified.is_none_or(|at| at < after)
        {
            return None;
        }
        if let Some(Origin::Postcode(postcode)) = &query.origin
            && !(facts.areas.is_empty() && facts.shapes.is_empty())
            && !facts.areas.iter().any(|area| area_contains(area, postcode))
            && !prepared
                .origin
                .is_some_and(|point| facts.shapes.iter().any(|shape| shape.contains(point)))
        {
            return None;
        }
        if let Some(min) = query.minimum_age
            && facts.maximum_age < min
        {
            return None;
        }
        if let Some(max) = query.maximum_age
            && facts.minimum_age > max
        {
            return None;
        }
        match query.cost {
            Some(CostFilter::Free) if facts.paid => return None,
            Some(CostFilter::Paid) if !facts.paid => return None,
            _ => {}
        }
        if query.day.is_some() || query.start_time.is_some() || query.end_time.is_some() {
            let start = query.start_time.map(|t| t.minutes());
            let end = query.end_time.map(|t| t.minutes());
            let day = query.day.map(day_bit);
            let open = facts.sessions.iter().any(|s| {
                day.is_none_or(|bit| s.days & bit != 0)
                    && start.is_none_or(|start| s.opens.is_some_and(|o| o >= start))
                    && end.is_none_or(|end| s.closes.is_some_and(|c| c <= end))
            });
            if !open {
                return None;
            }
        }
        let distance = prepared.origin.and_then(|origin| {
            facts
                .points
                .iter()
                .map(|(_, point)| origin.distance_metres(point))
                .min_by(f64::total_cmp)
        });
        if let Some(radius) = prepared.radius
            && distance.is_none_or(|d| d > radius)
        {
            return None;
        }
        Some(distance)
    }

    fn idf(&self, word: &str) -> f64 {
        let df = self.text.get(word).map_or(0, |p| p.docs.len()) as f64;
        (1.0 + self.len() as f64 / (1.0 + df)).ln()
    }

    fn rank(&self, hits: &mut [(u32, f64, Option<f64>)]) {
        hits.sort_unstable_by(|a, b| {
            b.1.total_cmp(&a.1)
                .then_with(|| {
                    a.2.unwrap_or(f64::INFINITY)
                        .total_cmp(&b.2.unwrap_or(f64::INFINITY))
                })
                .then_with(|| self.name_rank[a.0 as usize].cmp(&self.name_rank[b.0 as usize]))
        });
    }

    /// Every match of a query, ranked: (document, score, distance).
    fn matches(&self, query: &SearchQuery) -> Result<Vec<(u32, f64, Option<f64>)>, OrukError> {
        let prepared = self.prepare(query)?;
        let idf: Vec<f64> = prepared.words.iter().map(|w| self.idf(w)).collect();
        let evaluate = |doc: u32| -> Option<(u32, f64, Option<f64>)> {
            if !self.states[doc as usize].in_public_search() {
                return None;
            }
            let distance = self.passes(&self.facts[doc as usize], query, &prepared)?;
            let mut score = 0.0;
            for (word, idf) in prepared.words.iter().zip(&idf) {
                score += f64::from(self.text.get(word)?.weight(doc)?) * idf;
            }
            Some((doc, score, distance))
        };
        let mut hits: Vec<_> = match self.candidates(query, &prepared) {
            Some(docs) => docs.into_iter().filter_map(evaluate).collect(),
            None if prepared.words.is_empty() && prepared.origin.is_none() => {
                // Every score is 0 and no distance: the name order is already the ranking.
                return Ok(self
                    .name_order
                    .iter()
                    .copied()
                    .filter_map(evaluate)
                    .collect());
            }
            None => (0..u32::try_from(self.services.len()).unwrap_or(u32::MAX))
                .filter_map(evaluate)
                .collect(),
        };
        self.rank(&mut hits);
        Ok(hits)
    }

    /// Runs a query through the indexes and returns the requested page.
    pub fn search(&self, query: &SearchQuery) -> Result<Page<SearchHit<'_>>, OrukError> {
        let hits = self.matches(query)?;
        Ok(query
            .page
            .paginate(hits)
            .map(|(doc, score, distance_metres)| SearchHit {
                service: &self.services[doc as usize],
                score,
                distance_metres,
            }))
    }

    /// The same query answered by scanning every service without the indexes (facts and words
    /// are derived from each service on the spot). The reference the indexes are tested and
    /// benchmarked against; results are identical to [`Directory::search`].
    pub fn search_linear(&self, query: &SearchQuery) -> Result<Page<SearchHit<'_>>, OrukError> {
        let prepared = self.prepare(query)?;
        let idf: Vec<f64> = prepared.words.iter().map(|w| self.idf(w)).collect();
        let mut hits = Vec::new();
        for (doc, service) in self.services.iter().enumerate() {
            if !self.states[doc].in_public_search() {
                continue;
            }
            if let Some(term) = &query.taxonomy_term_id
                && !service
                    .attributes
                    .iter()
                    .any(|a| a.term_id() == Some(term.as_str()))
            {
                continue;
            }
            if let Some(taxonomy) = &query.taxonomy_id {
                let doc_u32 = u32::try_from(doc).unwrap_or(u32::MAX);
                let in_taxonomy = service.attributes.iter().any(|a| {
                    a.taxonomy_term
                        .as_ref()
                        .and_then(|t| t.taxonomy_id.as_deref())
                        == Some(taxonomy.as_str())
                }) || self
                    .by_taxonomy
                    .get(taxonomy)
                    .is_some_and(|docs| docs.binary_search(&doc_u32).is_ok());
                if !in_taxonomy {
                    continue;
                }
            }
            let words = if prepared.words.is_empty() {
                HashMap::new()
            } else {
                weighted_words(service)
            };
            let mut score = 0.0;
            let mut all_words = true;
            for (word, idf) in prepared.words.iter().zip(&idf) {
                match words.get(word) {
                    Some(weight) => score += f64::from(*weight) * idf,
                    None => {
                        all_words = false;
                        break;
                    }
                }
            }
            if !all_words {
                continue;
            }
            if let Some(distance) = self.passes(&Facts::of(service), query, &prepared) {
                hits.push((u32::try_from(doc).unwrap_or(u32::MAX), score, distance));
            }
        }
        self.rank(&mut hits);
        Ok(query
            .page
            .paginate(hits)
            .map(|(doc, score, distance_metres)| SearchHit {
                service: &self.services[doc as usize],
                score,
                distance_metres,
            }))
    }

    /// `GET /service_at_locations`: one item per location of each matching service (within
    /// `proximity` when given), ordered by the service ranking, or by distance when a point is
    /// given without a text query.
    pub fn search_service_at_locations(
        &self,
        query: &SearchQuery,
    ) -> Result<Page<ServiceAtLocationItem>, OrukError> {
        let prepared = self.prepare(query)?;
        let hits = self.matches(query)?;
        let mut items: Vec<(usize, Option<f64>, u32, usize)> = Vec::new();
        for (rank, (doc, _, _)) in hits.iter().enumerate() {
            let service = &self.services[*doc as usize];
            let facts = &self.facts[*doc as usize];
            for index in 0..service.service_at_locations.len() {
                let distance = prepared.origin.and_then(|origin| {
                    facts
                        .points
                        .iter()
                        .find(|(i, _)| usize::from(*i) == index)
                        .map(|(_, point)| origin.distance_metres(point))
                });
                if let Some(radius) = prepared.radius
                    && distance.is_none_or(|d| d > radius)
                {
                    continue;
                }
                items.push((rank, distance, *doc, index));
            }
        }
        if prepared.origin.is_some() && prepared.words.is_empty() {
            items.sort_by(|a, b| {
                a.1.unwrap_or(f64::INFINITY)
                    .total_cmp(&b.1.unwrap_or(f64::INFINITY))
                    .then(a.0.cmp(&b.0))
                    .then(a.3.cmp(&b.3))
            });
        }
        Ok(query.page.paginate(items).map(|(_, _, doc, index)| {
            let service = &self.services[doc as usize];
            self.sal_item(service, &service.service_at_locations[index])
        }))
    }

    /// Public services in list form, for `GET /services` without filters.
    pub fn list_services(&self, page: PageRequest) -> Page<Service> {
        let items: Vec<&Service> = self
            .services
            .iter()
            .zip(&self.states)
            .filter(|(service, state)| {
                state.in_public_search() && service.status == ServiceStatus::Active
            })
            .map(|(service, _)| service)
            .collect();
        page.paginate(items).map(Service::to_list_item)
    }
}

#[cfg(test)]
mod tests {
    use chrono::Weekday;

    use super::*;
    use crate::formats::UkPostcode;

    #[test]
    fn haversine_is_about_right() {
        // Bristol Temple Meads to Bristol Parkway is about 7.2 km.
        let temple_meads = GeoPoint::new(51.4491, -2.5813).unwrap();
        let parkway = GeoPoint::new(51.5138, -2.5425).unwrap();
        let d = temple_meads.distance_metres(&parkway);
        assert!((7_000.0..8_000.0).contains(&d), "{d}");
        assert_eq!(temple_meads.distance_metres(&temple_meads), 0.0);
    }

    #[test]
    fn query_parameters_are_checked() {
        let ok = SearchQuery::from_params([
            ("search", "walking group"),
            ("day", "Monday"),
            ("start_time", "09:00"),
            ("postcode", "bs1 5tr"),
            ("proximity", "1000"),
            ("page", "2"),
            ("per_page", "5"),
            ("unknown", "x"),
        ])
        .unwrap();
        assert_eq!(ok.page, PageRequest::new(2, 5).unwrap());
        assert_eq!(ok.day, Some(Weekday::Mon));
        assert!(matches!(ok.origin, Some(Origin::Postcode(ref p)) if p.as_str() == "BS1 5TR"));
        for (key, value, message) in [
            (
                "page",
                "0",
                "bad parameter `page`: expected a whole number from 1 to 4294967295",
            ),
            (
                "page",
                "-1",
                "bad parameter `page`: expected a whole number from 1 to 4294967295",
            ),
            (
                "per_page",
                "100000",
                "bad parameter `per_page`: expected a whole number from 1 to 1000",
            ),
            (
                "minimum_age",
                "old",
                "bad parameter `minimum_age`: expected a number of years from 0 to 150",
            ),
            (
                "day",
                "Funday",
                "bad parameter `day`: expected a day such as MO or Monday",
            ),
            (
                "start_time",
                "9am",
                "bad parameter `start_time`: expected a time HH:MM",
            ),
            (
                "postcode",
                "ABC 1234",
                "bad parameter `postcode`: not a UK postcode",
            ),
            (
                "proximity",
                "1000",
                "bad parameter `proximity`: needs a postcode to measure from",
            ),
            (
                "cost",
                "cheap",
                "bad parameter `cost`: expected free or paid",
            ),
            (
                "latitude",
                "51",
                "bad parameter `longitude`: latitude needs longitude",
            ),
        ] {
            let err = SearchQuery::from_params([(key, value)]).unwrap_err();
            assert_eq!(err.to_string(), message);
        }
    }

    #[test]
    fn gazetteer_from_csv() {
        let csv = "pcds,lat,long\nBS1 5TR,51.45,-2.59\nnot a postcode,1,1\nBS2 0JA,91,0\n";
        let (table, skipped) = PostcodeTable::from_csv_reader(csv.as_bytes()).unwrap();
        assert_eq!((table.len(), skipped), (1, 2));
        let postcode = UkPostcode::try_from("bs15tr").unwrap();
        assert!(table.locate(&postcode).is_some());
        assert!(PostcodeTable::from_csv_reader("a,b\n1,2\n".as_bytes()).is_err());
    }
}
