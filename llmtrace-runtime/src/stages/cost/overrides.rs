//! Prices the user gives, in code or in a JSON prices file, and their lookup.

use std::borrow::Cow;
use std::collections::HashMap;
use std::path::Path;

use serde::Deserialize;

use super::price::ModelPrice;

/// A user price for a model, from one provider (`gen_ai.provider.name`) or from any.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct PriceOverride {
    pub(crate) provider: Option<String>,
    pub(crate) model: String,
    pub(crate) price: ModelPrice,
}

/// User prices by model. Names compare ASCII case-insensitively, as the database's do.
#[derive(Debug, Default)]
pub(crate) struct Overrides {
    by_model: HashMap<Box<str>, ModelPrices>,
}

#[derive(Debug, Default)]
struct ModelPrices {
    any_provider: Option<ModelPrice>,
    by_provider: Vec<(Box<str>, ModelPrice)>,
}

impl Overrides {
    /// Later entries replace earlier ones for the same provider and model: pass the file's
    /// entries before those from code, so that code wins.
    pub(crate) fn new(entries: impl IntoIterator<Item = PriceOverride>) -> Overrides {
        let mut by_model: HashMap<Box<str>, ModelPrices> = HashMap::new();
        for e in entries {
            let prices = by_model
                .entry(e.model.to_ascii_lowercase().into())
                .or_default();
            match e.provider {
                None => prices.any_provider = Some(e.price),
                Some(p) => match prices
                    .by_provider
                    .iter_mut()
                    .find(|(q, _)| q.eq_ignore_ascii_case(&p))
                {
                    Some(slot) => slot.1 = e.price,
                    None => prices.by_provider.push((p.into(), e.price)),
                },
            }
        }
        Overrides { by_model }
    }

    /// The price for `model` from `provider`: a price given for that provider wins over one
    /// given for any provider.
    pub(crate) fn get(&self, provider: Option<&str>, model: &str) -> Option<&ModelPrice> {
        if self.by_model.is_empty() {
            return None;
        }
        let key = if model.bytes().any(|b| b.is_ascii_uppercase()) {
            Cow::Owned(model.to_ascii_lowercase())
        } else {
            Cow::Borrowed(model)
        };
        let prices = self.by_model.get(key.as_ref())?;
        provider
            .and_then(|p| {
                prices
                    .by_provider
                    .iter()
                    .find(|(q, _)| q.eq_ignore_ascii_case(p))
            })
            .map(|(_, price)| price)
            .or(prices.any_provider.as_ref())
    }
}

/// The prices file: `{"models": [{"provider": .., "model": .., "input_per_mtok": .., ...}]}`.
/// Unknown keys are errors: a misspelt rate silently ignored would misprice every call.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PricesFile {
    models: Vec<FileEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileEntry {
    #[serde(default)]
    provider: Option<String>,
    model: String,
    input_per_mtok: f64,
    output_per_mtok: f64,
    #[serde(default)]
    cache_read_per_mtok: Option<f64>,
    #[serde(default)]
    cache_write_per_mtok: Option<f64>,
}

/// Parses a prices file. Any bad entry rejects the whole file: half a price list is a trap.
pub(crate) fn parse(json: &str) -> Result<Vec<PriceOverride>, String> {
    let file: PricesFile = serde_json::from_str(json).map_err(|e| e.to_string())?;
    file.models
        .into_iter()
        .enumerate()
        .map(|(i, e)| {
            if e.model.trim().is_empty() {
                return Err(format!("models[{i}]: the model name is empty"));
            }
            let mut price = ModelPrice::per_million_tokens(e.input_per_mtok, e.output_per_mtok);
            price.cache_read = e.cache_read_per_mtok;
            price.cache_write = e.cache_write_per_mtok;
            if let Some(why) = price.invalid() {
                return Err(format!("models[{i}] ({}): {why}", e.model));
            }
            Ok(PriceOverride {
                provider: e.provider.filter(|p| !p.trim().is_empty()),
                model: e.model,
                price,
            })
        })
        .collect()
}

/// Reads and parses a prices file.
pub(crate) fn read_file(path: &Path) -> Result<Vec<PriceOverride>, String> {
    let json = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    parse(&json)
}

/// Reads a prices file; a file that cannot be used is reported once and left out, so a typo in
/// a price list never stops the application or its tracing.
pub(crate) fn read_file_or_warn(path: &Path) -> Vec<PriceOverride> {
    read_file(path).unwrap_or_else(|e| {
        crate::state::warn::warn(format_args!("{}", unusable_file(path, &e)));
        Vec::new()
    })
}

fn unusable_file(path: &Path, error: &str) -> String {
    format!(
        "prices file {}: {error}; its prices are not used",
        path.display()
    )
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::Ordering;

    use super::*;

    fn entry(provider: Option<&str>, model: &str, input: f64) -> PriceOverride {
        PriceOverride {
            provider: provider.map(Into::into),
            model: model.into(),
            price: ModelPrice::per_million_tokens(input, 0.0),
        }
    }

    fn input_rate(o: &Overrides, provider: Option<&str>, model: &str) -> Option<f64> {
        o.get(provider, model).map(|p| p.input)
    }

    #[test]
    fn provider_specific_prices_win_and_later_entries_replace_earlier_ones() {
        let o = Overrides::new([
            entry(None, "m", 1.0),
            entry(Some("openai"), "m", 2.0),
            entry(Some("azure.ai.openai"), "m", 3.0),
            // Code comes after the file: replaces the same provider and model only.
            entry(Some("OpenAI"), "M", 4.0),
        ]);
        assert_eq!(input_rate(&o, Some("openai"), "m"), Some(4.0));
        assert_eq!(input_rate(&o, Some("azure.ai.openai"), "M"), Some(3.0));
        assert_eq!(input_rate(&o, Some("anthropic"), "m"), Some(1.0));
        assert_eq!(input_rate(&o, None, "m"), Some(1.0));
        assert_eq!(input_rate(&o, None, "other"), None);
        let only_provider = Overrides::new([entry(Some("openai"), "x", 1.0)]);
        assert_eq!(input_rate(&only_provider, Some("anthropic"), "x"), None);
        assert_eq!(input_rate(&only_provider, None, "x"), None);
    }

    #[test]
    fn a_valid_file() {
        let entries = parse(
            r#"{"models": [
                {"provider": "openai", "model": "ft:gpt-4o:acme", "input_per_mtok": 3.0,
                 "output_per_mtok": 12.0, "cache_read_per_mtok": 1.5, "cache_write_per_mtok": 3.75},
                {"model": "local-llama", "input_per_mtok": 0.1, "output_per_mtok": 0.2}
            ]}"#,
        )
        .unwrap();
        assert_eq!(
            entries,
            [
                PriceOverride {
                    provider: Some("openai".into()),
                    model: "ft:gpt-4o:acme".into(),
                    price: ModelPrice::per_million_tokens(3.0, 12.0)
                        .with_cache_read(1.5)
                        .with_cache_write(3.75),
                },
                PriceOverride {
                    provider: None,
                    model: "local-llama".into(),
                    price: ModelPrice::per_million_tokens(0.1, 0.2),
                },
            ]
        );
    }

    #[test]
    fn invalid_files_say_what_is_wrong() {
        let err = |json: &str| parse(json).unwrap_err();
        assert!(err("{").contains("EOF"), "{}", err("{"));
        assert!(
            err(r#"{"models": [{"model": "m", "input_per_mtok": 1}]}"#).contains("output_per_mtok")
        );
        // A misspelt key is an error, not a price silently left out.
        assert!(
            err(r#"{"models": [{"model": "m", "input_per_mtok": 1, "output_per_mtok": 2, "cache_read_per_tok": 1}]}"#)
                .contains("cache_read_per_tok")
        );
        assert!(
            err(r#"{"models": [{"model": "m", "input_per_mtok": -1, "output_per_mtok": 2}]}"#)
                .contains("models[0] (m)")
        );
        assert!(
            err(r#"{"models": [{"model": " ", "input_per_mtok": 1, "output_per_mtok": 2}]}"#)
                .contains("empty")
        );
        assert!(err(r#"{"prices": []}"#).contains("prices"));
    }

    #[test]
    fn a_bad_file_is_reported_with_its_path_and_left_out() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("prices.json");
        std::fs::write(&path, r#"{"models": [{"model": "m"}]}"#).unwrap();
        let before = crate::state::warn::WARNINGS.load(Ordering::Relaxed);
        assert!(read_file_or_warn(&path).is_empty());
        assert!(crate::state::warn::WARNINGS.load(Ordering::Relaxed) > before);
        let message = unusable_file(&path, &read_file(&path).unwrap_err());
        assert!(
            message.contains(&path.display().to_string())
                && message.contains("missing field `input_per_mtok`"),
            "{message}"
        );
        let missing = read_file(&dir.path().join("missing.json")).unwrap_err();
        assert!(!missing.is_empty());
        assert!(read_file_or_warn(&dir.path().join("missing.json")).is_empty());

        std::fs::write(
            &path,
            r#"{"models": [{"model": "m", "input_per_mtok": 1, "output_per_mtok": 2}]}"#,
        )
        .unwrap();
        assert_eq!(read_file_or_warn(&path).len(), 1);
    }
}
