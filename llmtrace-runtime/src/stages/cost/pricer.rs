//! The pricer: prices given by the user first, then the database.

use std::path::Path;

use super::call::{Call, Cost};
#[cfg(feature = "prices")]
use super::database;
use super::overrides::{self, Overrides, PriceOverride};

/// Prices calls: user prices first, then the database.
#[derive(Debug)]
pub(crate) struct Pricer {
    overrides: Overrides,
    #[cfg(feature = "prices")]
    database: database::Database,
}

impl Pricer {
    /// Loads the prices: the file (a bad one is reported and left out), the entries from code,
    /// which win over the file's, and the database. Slow (the database decodes for tens of
    /// milliseconds): call it when the stages start, never on the hot path.
    pub(crate) fn load(code: Vec<PriceOverride>, file: Option<&Path>) -> Pricer {
        let from_file = file.map(overrides::read_file_or_warn).unwrap_or_default();
        let mut entries = from_file;
        for entry in code {
            match entry.price.invalid() {
                Some(why) => crate::state::warn::warn(format_args!(
                    "model_price for {:?}: {why}; this price is ignored",
                    entry.model
                )),
                None => entries.push(entry),
            }
        }
        Pricer {
            overrides: Overrides::new(entries),
            #[cfg(feature = "prices")]
            database: database::Database::bundled(),
        }
    }

    /// The cost of `call`, or `None` when no price is known for it.
    pub(crate) fn price(&mut self, call: &Call<'_>) -> Option<Cost> {
        // User prices win over the database for every name of the model, so that a price given
        // for the requested name is not bypassed by the database knowing the response name.
        for model in call.models() {
            if let Some(price) = self.overrides.get(call.provider, model) {
                return Some(price.cost(call.tokens));
            }
        }
        #[cfg(feature = "prices")]
        for model in call.models() {
            if let Some(cost) = self
                .database
                .price(call.provider, model, call.tokens, call.at)
            {
                return Some(cost);
            }
        }
        None
    }
}
