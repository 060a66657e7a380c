//! One block of lines to spans: each line parsed as an OTLP/JSON request, each span read into
//! its facts and handed to the accumulator, each unusable line reported; with a segment
//! builder, the facts and problems of the block's whole lines are also kept for the cache.

use super::{Accumulator, Block, Problem, Report};
use crate::cache::segment::SegmentBuilder;
use crate::otlp::Request;
use crate::span::{OpKind, SpanFacts};

/// Parses every line of `block` and hands its spans to `acc`; with `segment`, every line but an
/// unterminated last one (a writer may still be appending to it) also goes into the segment.
pub(super) fn parse_block<A: Accumulator>(
    block: &Block,
    name: &str,
    acc: &mut A,
    report: &mut Report,
    mut segment: Option<&mut SegmentBuilder>,
) {
    let mut line_no = block.first_line;
    let mut offset = 0u64;
    let mut lines = block.data.split(|&b| b == b'\n').peekable();
    while let Some(raw_line) = lines.next() {
        let is_last = lines.peek().is_none();
        let this_line = line_no;
        let this_offset = offset;
        line_no += 1;
        offset += raw_line.len() as u64 + 1;
        let line = trim_ascii(raw_line);
        if line.is_empty() {
            continue;
        }
        let mut segment = segment
            .as_deref_mut()
            .filter(|_| !(is_last && block.unterminated_end));
        if let Some(seg) = segment.as_deref_mut() {
            seg.line(this_offset, raw_line.len() as u64, this_line);
        }
        report.lines += 1;
        let problem = |message: String, report: &mut Report, seg: Option<&mut SegmentBuilder>| {
            if let Some(seg) = seg {
                seg.problem(this_line, &message);
            }
            report.problems.push(Problem {
                input: block.input,
                file: name.to_owned(),
                line: Some(this_line),
                message,
            });
        };
        // Validated as UTF-8 once: read from a `str`, `serde_json` does not check each string
        // again. A line that is not UTF-8 is read from its bytes, for the same error message.
        let parsed = match std::str::from_utf8(line) {
            Ok(text) => serde_json::from_str(text),
            Err(_) => serde_json::from_slice(line),
        };
        let request: Request<'_> = match parsed {
            Ok(r) => r,
            Err(e) => {
                let message = if is_last && block.unterminated_end && e.is_eof() {
                    "incomplete last line (a writer may still be appending); skipped".to_owned()
                } else if e.is_syntax() || e.is_eof() {
                    format!("not JSON ({e}); line skipped")
                } else {
                    format!("not OTLP/JSON traces ({e}); line skipped")
                };
                problem(message, report, segment);
                continue;
            }
        };
        let Some(resource_spans) = request.resource_spans else {
            problem(
                "JSON without `resourceSpans`: not an OTLP/JSON traces line; skipped".to_owned(),
                report,
                segment,
            );
            continue;
        };
        let mut unknown_reported = false;
        let mut bad_ids = 0;
        for rs in &resource_spans {
            let resource = rs.resource.as_ref().map_or(&[][..], |r| &r.attributes[..]);
            for ss in &rs.scope_spans {
                for span in &ss.spans {
                    let Some(mut facts) = SpanFacts::read(span, resource) else {
                        bad_ids += 1;
                        continue;
                    };
                    let unknown = facts.raw.as_ref().and_then(|r| r.unknown_type);
                    if let (Some((key, ty)), false) = (unknown, unknown_reported) {
                        unknown_reported = true;
                        problem(
                            format!(
                                "attribute `{key}` of span `{}` has an unknown value type `{ty}`; attribute ignored",
                                facts.name
                            ),
                            report,
                            segment.as_deref_mut(),
                        );
                    }
                    if let Some(seg) = segment.as_deref_mut() {
                        // Computed once here for the cache, and used by `loops` as it is.
                        if matches!(facts.kind(), OpKind::Tool | OpKind::Model) {
                            facts.repeat = Some(facts.compute_repeat());
                        }
                        seg.span(&facts);
                    }
                    report.spans += 1;
                    acc.add(&facts);
                }
            }
        }
        if bad_ids > 0 {
            problem(
                format!("{bad_ids} span(s) without a valid hex trace or span id; skipped"),
                report,
                segment,
            );
        }
    }
}

fn trim_ascii(mut b: &[u8]) -> &[u8] {
    while let [first, rest @ ..] = b {
        if first.is_ascii_whitespace() {
            b = rest;
        } else {
            break;
        }
    }
    while let [rest @ .., last] = b {
        if last.is_ascii_whitespace() {
            b = rest;
        } else {
            break;
        }
    }
    b
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// Counts spans, and checks that what reaches a command is a whole span.
    #[derive(Default)]
    struct Count(u64);

    impl Accumulator for Count {
        fn add(&mut self, span: &SpanFacts<'_>) {
            assert!(span.trace_id != 0 && span.span_id != 0);
            self.0 += 1;
        }
        fn merge(&mut self, other: Self) {
            self.0 += other.0;
        }
    }

    const LINE: &str = r#"{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"bot"}}]},"scopeSpans":[{"spans":[{"traceId":"0af7651916cd43dd8448eb211c80319c","spanId":"b7ad6b7169203331","parentSpanId":"","flags":257,"name":"chat gpt-4o","kind":3,"startTimeUnixNano":"1700000000000000000","endTimeUnixNano":"1700000000250000000","attributes":[{"key":"gen_ai.operation.name","value":{"stringValue":"chat"}},{"key":"gen_ai.usage.input_tokens","value":{"intValue":"412"}},{"key":"llm.cost.total","value":{"doubleValue":0.0012}},{"key":"gen_ai.response.finish_reasons","value":{"arrayValue":{"values":[{"stringValue":"stop"}]}}}],"status":{"message":"","code":0}}]}]}]}"#;

    fn parse(data: &[u8]) -> (u64, Report) {
        let block = Block {
            input: 0,
            first_line: 1,
            data: data.to_vec(),
            unterminated_end: data.last() != Some(&b'\n'),
            newlines: 0,
            offset: 0,
            seq: 0,
            encode: false,
        };
        let mut acc = Count::default();
        let mut report = Report::default();
        parse_block(&block, "t.jsonl", &mut acc, &mut report, None);
        (acc.0, report)
    }

    #[test]
    fn a_good_line_gives_its_span() {
        let (spans, report) = parse(format!("{LINE}\n\n{LINE}\n").as_bytes());
        assert_eq!(spans, 2);
        assert!(report.problems.is_empty());
    }

    #[test]
    fn a_line_that_is_not_utf8_is_reported_as_serde_json_words_it() {
        let mut bad = LINE.as_bytes().to_vec();
        let at = LINE.find("chat gpt-4o").unwrap();
        bad[at] = 0xff;
        let expected = serde_json::from_slice::<Request<'_>>(&bad).unwrap_err();
        let mut data = bad.clone();
        data.push(b'\n');
        data.extend_from_slice(LINE.as_bytes());
        data.push(b'\n');
        let (spans, report) = parse(&data);
        assert_eq!(spans, 1);
        assert_eq!(report.problems.len(), 1);
        assert_eq!(
            report.problems[0].message,
            format!("not JSON ({expected}); line skipped")
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        /// Lines cut anywhere, with bytes replaced or inserted: never a panic; a good line after
        /// a mangled one is still read; every mangled line that yields nothing is reported.
        #[test]
        fn mangled_lines_never_panic(
            cut in 0..LINE.len(),
            edits in proptest::collection::vec((0..LINE.len(), any::<u8>()), 0..4),
            insert in proptest::option::of((0..LINE.len(), "[\\[\\]{}\",:0-9a-z\\\\]{1,3}")),
        ) {
            let mut bad = LINE.as_bytes().to_vec();
            // Any byte but a newline: a newline would make two lines of one.
            for (at, byte) in &edits {
                bad[*at] = if *byte == b'\n' { b' ' } else { *byte };
            }
            if let Some((at, text)) = &insert {
                bad.splice(*at..*at, text.bytes());
            }
            bad.truncate(cut.max(1));
            let mut data = bad.clone();
            data.push(b'\n');
            data.extend_from_slice(LINE.as_bytes());
            data.push(b'\n');
            let (spans, report) = parse(&data);
            prop_assert!(spans >= 1, "the good line is read");
            prop_assert!(spans == 2 || !report.problems.is_empty());
            // Alone, at the end without a newline: a writer still appending.
            let (_, report) = parse(&bad);
            for p in &report.problems {
                prop_assert_eq!(p.line, Some(1));
            }
        }
    }
}
