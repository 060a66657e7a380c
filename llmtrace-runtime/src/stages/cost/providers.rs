//! `gen_ai.provider.name` values to the provider ids of the genai-prices database.

/// The database's provider id for a GenAI provider name, for the well-known names (and the old
/// `gen_ai.system` spellings) whose id differs from the name or that must not fall to a fuzzy
/// alias. Names that are database ids themselves (`openrouter`, `together`, ...) are passed
/// through by the caller; any other name gets `None`, so the model alone selects the provider.
pub(crate) fn database_id(provider_name: &str) -> Option<&'static str> {
    Some(match provider_name {
        "openai" => "openai",
        "anthropic" => "anthropic",
        "aws.bedrock" => "aws",
        // Azure serves OpenAI, Anthropic, DeepSeek, xAI and Moonshot models; the database's
        // Azure entry falls back to those providers' prices.
        "azure.ai.openai" | "azure.ai.inference" | "az.ai.openai" | "az.ai.inference" => "azure",
        // Google's entry covers Gemini on AI Studio and Vertex AI (and Claude on Vertex).
        "gcp.gemini" | "gcp.vertex_ai" | "gcp.gen_ai" | "gemini" | "vertex_ai" => "google",
        "mistral_ai" => "mistral",
        "x_ai" | "xai" => "x-ai",
        "moonshot_ai" => "moonshotai",
        "deepseek" => "deepseek",
        "groq" => "groq",
        "cohere" => "cohere",
        "perplexity" => "perplexity",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const WELL_KNOWN: [&str; 17] = [
        "openai",
        "anthropic",
        "aws.bedrock",
        "azure.ai.openai",
        "azure.ai.inference",
        "az.ai.openai",
        "gcp.gemini",
        "gcp.vertex_ai",
        "gcp.gen_ai",
        "vertex_ai",
        "mistral_ai",
        "x_ai",
        "moonshot_ai",
        "deepseek",
        "groq",
        "cohere",
        "perplexity",
    ];

    #[test]
    fn every_mapped_id_is_a_provider_of_the_database() {
        let calculator = genai_prices::Calculator::bundled();
        for name in WELL_KNOWN {
            let id = database_id(name).unwrap_or_else(|| panic!("{name} is not mapped"));
            assert!(
                calculator.providers().any(|p| p.id() == id),
                "{name} maps to {id}, which the database does not have"
            );
        }
    }

    #[test]
    fn renamed_names_map_to_the_same_provider() {
        assert_eq!(database_id("aws.bedrock"), Some("aws"));
        assert_eq!(database_id("azure.ai.openai"), Some("azure"));
        assert_eq!(database_id("gcp.vertex_ai"), Some("google"));
        assert_eq!(database_id("gcp.gemini"), Some("google"));
        assert_eq!(database_id("mistral_ai"), Some("mistral"));
        assert_eq!(database_id("x_ai"), database_id("xai"));
        assert_eq!(database_id("moonshot_ai"), Some("moonshotai"));
        // Not in the database, and not to be guessed from the name.
        assert_eq!(database_id("ibm.watsonx.ai"), None);
        assert_eq!(database_id("my-gateway"), None);
    }
}
