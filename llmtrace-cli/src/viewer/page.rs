//! The viewer's page: one HTML file with its style and script inline, and the data embedded as
//! JSON that the script reads (never as markup, so content can never become HTML).

use serde_json::Value as Json;

const HTML: &str = include_str!("assets/viewer.html");
const CSS: &str = include_str!("assets/viewer.css");
const JS: &str = include_str!("assets/viewer.js");

/// The page with `data` embedded: `llmtrace report`'s output.
pub(crate) fn report(data: &Json) -> String {
    let json = script_safe_json(data);
    let mut html = String::with_capacity(HTML.len() + CSS.len() + JS.len() + json.len());
    // The template's three slots, in order; what fills them is never searched for slots.
    let (head, rest) = HTML.split_once("/*style*/").unwrap_or((HTML, ""));
    let (middle, rest) = rest.split_once("/*data*/").unwrap_or((rest, ""));
    let (between, tail) = rest.split_once("/*script*/").unwrap_or((rest, ""));
    html.push_str(head);
    html.push_str(CSS);
    html.push_str(middle);
    html.push_str(&json);
    html.push_str(between);
    html.push_str(JS);
    html.push_str(tail);
    html
}

/// JSON that can sit inside a `<script>` element: `<`, `>` and `&` (which can only occur inside
/// strings) are written as `\u` escapes, so no `</script>` or `<!--` in a prompt ends or
/// changes the element; U+2028 and U+2029 likewise, for older parsers.
fn script_safe_json(data: &Json) -> String {
    let text = data.to_string();
    let mut out = String::with_capacity(text.len() + text.len() / 16);
    for c in text.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::{report, script_safe_json};

    #[test]
    fn content_cannot_close_the_data_element() {
        let data = json!({"prompt": "</script><script>alert(1)</script><!-- & \u{2028}"});
        let text = script_safe_json(&data);
        assert!(!text.contains('<') && !text.contains('>') && !text.contains('&'));
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&text).unwrap(),
            data
        );
        let page = report(&data);
        // The template's own script elements only: the data added none.
        assert_eq!(page.matches("</script>").count(), 2, "{page}");
    }
}
