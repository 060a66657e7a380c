//! The registered OpenTelemetry GenAI attributes (`data/genai-attributes.txt`, copied from the
//! conventions): custom attributes may use a `gen_ai.*` key only when it is registered, not
//! deprecated, and given a value of its type.

/// The type of a registered attribute.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum AttrType {
    String,
    Int,
    Double,
    Boolean,
    StringArray,
    /// Structured (`any`) or template attributes: not settable as a custom attribute.
    Other,
}

impl AttrType {
    pub(crate) fn describe(self) -> &'static str {
        match self {
            AttrType::String => "a string",
            AttrType::Int => "an integer",
            AttrType::Double => "a number",
            AttrType::Boolean => "a bool",
            AttrType::StringArray => "a list of strings",
            AttrType::Other => "a structured value",
        }
    }

    /// The runtime trait an expression of this type goes through.
    pub(crate) fn expr_trait(self) -> &'static str {
        match self {
            AttrType::String => "StrArg",
            AttrType::Int => "IntArg",
            AttrType::Double => "FloatArg",
            AttrType::Boolean => "BoolArg",
            AttrType::StringArray => "StrListArg",
            AttrType::Other => "AttrArg",
        }
    }
}

/// One registered attribute.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Registered {
    pub(crate) name: &'static str,
    pub(crate) ty: AttrType,
    pub(crate) deprecated: bool,
}

const DATA: &str = include_str!("../data/genai-attributes.txt");

/// Every attribute in the registry list.
pub(crate) fn all() -> impl Iterator<Item = Registered> {
    DATA.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .filter_map(|line| {
            let mut cols = line.split('\t');
            let name = cols.next()?.trim();
            let ty = cols.next()?.trim();
            let stability = cols.next()?.trim();
            let ty = match ty {
                "string" => AttrType::String,
                "int" => AttrType::Int,
                "double" => AttrType::Double,
                "boolean" => AttrType::Boolean,
                "string[]" => AttrType::StringArray,
                t if t.starts_with("enum(string)") => AttrType::String,
                _ => AttrType::Other,
            };
            Some(Registered {
                name,
                ty,
                deprecated: stability == "deprecated",
            })
        })
}

/// The registered attribute `name`.
pub(crate) fn lookup(name: &str) -> Option<Registered> {
    all().find(|r| r.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_registry() {
        let agent = lookup("gen_ai.agent.name").unwrap();
        assert_eq!(agent.ty, AttrType::String);
        assert!(!agent.deprecated);
        assert_eq!(lookup("gen_ai.request.seed").unwrap().ty, AttrType::Int);
        assert_eq!(lookup("gen_ai.provider.name").unwrap().ty, AttrType::String);
        assert!(lookup("gen_ai.system").unwrap().deprecated);
        assert!(lookup("gen_ai.nonexistent").is_none());
        assert!(all().count() > 80);
    }
}
