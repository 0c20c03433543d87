//! Incremental maintenance of a [`Directory`]: [`Directory::upsert`] and
//! [`Directory::remove`] change one service and touch only that service's entries in each
//! index (postings, taxonomy maps, day lists, grid cells, service-at-location ids) plus the
//! name order. Nothing is rebuilt per edit, and the answers are exactly those of a directory
//! built from scratch over the same services (a property test checks this).
//!
//! A removed service leaves an empty slot that the next insert reuses; slots never show up in
//! results, [`Directory::len`] or the ranking.
//!
//! The default [`super::DataGeocoder`] knows the postcodes of the services present when the directory
//! was built; a live directory should be given a gazetteer ([`super::DirectoryBuilder::geocoder`]).

use super::{Directory, Facts, Service, weighted_words};
use crate::marketplace::ListingState;
use crate::model::ServiceStatus;

fn insert_sorted(list: &mut Vec<u32>, doc: u32) {
    if let Err(position) = list.binary_search(&doc) {
        list.insert(position, doc);
    }
}

fn remove_sorted(list: &mut Vec<u32>, doc: u32) {
    if let Ok(position) = list.binary_search(&doc) {
        list.remove(position);
    }
}

fn placeholder() -> Service {
    Service::new(String::new(), String::new(), ServiceStatus::Inactive)
}

impl Directory {
    /// Adds a service, or replaces the service with the same id, updating the indexes in place.
    /// A new service starts [`ListingState::Public`]; a replaced one keeps its state. Returns
    /// whether a service was replaced.
    pub fn upsert(&mut self, service: Service) -> bool {
        if let Some(&doc) = self.by_id.get(&service.id) {
            self.unindex(doc);
            self.index_doc(doc, service);
            self.reorder(doc);
            return true;
        }
        let doc = match self.vacant.pop() {
            Some(doc) => doc,
            None => {
                let Ok(doc) = u32::try_from(self.services.len()) else {
                    return false;
                };
                self.services.push(placeholder());
                self.facts.push(Facts::of(&self.services[doc as usize]));
                self.states.push(ListingState::Public);
                self.name_order.push(doc);
                self.name_rank
                    .push(u32::try_from(self.name_order.len() - 1).unwrap_or(u32::MAX));
                doc
            }
        };
        self.by_id.insert(service.id.clone(), doc);
        self.states[doc as usize] = ListingState::Public;
        self.index_doc(doc, service);
        self.reorder(doc);
        false
    }

    /// Removes a service by id, updating the indexes in place; returns it.
    pub fn remove(&mut self, id: &str) -> Option<Service> {
        let doc = self.by_id.remove(id)?;
        self.unindex(doc);
        let empty = placeholder();
        self.facts[doc as usize] = Facts::of(&empty);
        let service = std::mem::replace(&mut self.services[doc as usize], empty);
        // A vacant slot is never searchable nor reachable.
        self.states[doc as usize] = ListingState::Suspended;
        self.vacant.push(doc);
        self.reorder(doc);
        Some(service)
    }

    /// Drops one document's entries from every index (its service stays in its slot).
    fn unindex(&mut self, doc: u32) {
        let service = &self.services[doc as usize];
        for word in weighted_words(service).into_keys() {
            if let Some(postings) = self.text.get_mut(&word) {
                if let Ok(position) = postings.docs.binary_search(&doc) {
                    postings.docs.remove(position);
                    postings.weights.remove(position);
                }
                if postings.docs.is_empty() {
                    self.text.remove(&word);
                }
            }
        }
        for attribute in &service.attributes {
            if let Some(term_id) = attribute.term_id() {
                if let Some(list) = self.by_term.get_mut(term_id) {
                    remove_sorted(list, doc);
                    if list.is_empty() {
                        self.by_term.remove(term_id);
                    }
                }
                let taxonomy = attribute
                    .taxonomy_term
                    .as_ref()
                    .and_then(|t| t.taxonomy_id.clone())
                    .or_else(|| self.term_taxonomy.get(term_id).cloned());
                if let Some(taxonomy) = taxonomy
                    && let Some(list) = self.by_taxonomy.get_mut(&taxonomy)
                {
                    remove_sorted(list, doc);
                    if list.is_empty() {
                        self.by_taxonomy.remove(&taxonomy);
                    }
                }
            }
        }
        for list in &mut self.by_day {
            remove_sorted(list, doc);
        }
        for (_, point) in &self.facts[doc as usize].points {
            let cell = point.cell();
            if let Some(list) = self.grid.get_mut(&cell) {
                remove_sorted(list, doc);
                if list.is_empty() {
                    self.grid.remove(&cell);
                }
            }
        }
        for sal in &service.service_at_locations {
            if self.sal_index.get(&sal.id).is_some_and(|(d, _)| *d == doc) {
                self.sal_index.remove(&sal.id);
            }
        }
    }

    /// Puts `service` in slot `doc` and adds its entries to every index.
    fn index_doc(&mut self, doc: u32, service: Service) {
        for (word, weight) in weighted_words(&service) {
            let postings = self.text.entry(word).or_default();
            if let Err(position) = postings.docs.binary_search(&doc) {
                postings.docs.insert(position, doc);
                postings.weights.insert(position, weight);
            }
        }
        for attribute in &service.attributes {
            if let Some(term_id) = attribute.term_id() {
                insert_sorted(self.by_term.entry(term_id.to_owned()).or_default(), doc);
                let taxonomy = attribute
                    .taxonomy_term
                    .as_ref()
                    .and_then(|t| t.taxonomy_id.clone())
                    .or_else(|| self.term_taxonomy.get(term_id).cloned());
                if let Some(taxonomy) = taxonomy {
                    insert_sorted(self.by_taxonomy.entry(taxonomy).or_default(), doc);
                }
            }
            if let Some(term) = &attribute.taxonomy_term {
                self.terms
                    .entry(term.id.clone())
                    .or_insert_with(|| term.clone());
            }
        }
        let facts = Facts::of(&service);
        for (day, list) in self.by_day.iter_mut().enumerate() {
            if facts.sessions.iter().any(|s| s.days & (1 << day) != 0) {
                insert_sorted(list, doc);
            }
        }
        for (_, point) in &facts.points {
            insert_sorted(self.grid.entry(point.cell()).or_default(), doc);
        }
        for (index, sal) in service.service_at_locations.iter().enumerate() {
            if let Ok(index) = u16::try_from(index) {
                self.sal_index.entry(sal.id.clone()).or_insert((doc, index));
            }
        }
        self.facts[doc as usize] = facts;
        self.services[doc as usize] = service;
    }

    /// Moves `doc` to its place in the (name, id) order after its service changed.
    fn reorder(&mut self, doc: u32) {
        let Some(&rank) = self.name_rank.get(doc as usize) else {
            return;
        };
        let rank = rank as usize;
        if self.name_order.get(rank) == Some(&doc) {
            self.name_order.remove(rank);
        } else {
            self.name_order.retain(|d| *d != doc);
        }
        let services = &self.services;
        let key = |d: u32| {
            let service = &services[d as usize];
            (service.name.as_str(), service.id.as_str())
        };
        let target = key(doc);
        let position = self.name_order.partition_point(|&d| key(d) < target);
        self.name_order.insert(position, doc);
        let (low, high) = (rank.min(position), rank.max(position));
        for index in low..=high.min(self.name_order.len().saturating_sub(1)) {
            let d = self.name_order[index];
            self.name_rank[d as usize] = u32::try_from(index).unwrap_or(u32::MAX);
        }
    }
}
