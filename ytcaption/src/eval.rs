//! Measuring transcripts: text normalization and word error rate.

/// Lowercases, strips accents (é → e), turns every character that is not a letter or digit
/// into a space, and collapses whitespace. The normalization used for the word error rates
/// quoted in ytcaption's docs.
///
/// ```
/// assert_eq!(ytcaption::eval::normalize("Ask not — what YOUR country... Está!"), "ask not what your country esta");
/// ```
pub fn normalize(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars().flat_map(char::to_lowercase) {
        let c = strip_accent(c);
        if c.is_alphanumeric() {
            out.push(c);
        } else {
            out.push(' ');
        }
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn strip_accent(c: char) -> char {
    match c {
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' => 'a',
        'ç' => 'c',
        'è' | 'é' | 'ê' | 'ë' => 'e',
        'ì' | 'í' | 'î' | 'ï' => 'i',
        'ñ' => 'n',
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' => 'o',
        'ù' | 'ú' | 'û' | 'ü' => 'u',
        'ý' | 'ÿ' => 'y',
        other => other,
    }
}

/// Word error rate of `hypothesis` against `reference` after [`normalize`]: (substitutions +
/// deletions + insertions) / reference words. 0.0 is perfect; it can exceed 1.0.
///
/// ```
/// use ytcaption::eval::word_error_rate;
/// assert_eq!(word_error_rate("a b c d", "a b c d"), 0.0);
/// assert_eq!(word_error_rate("a b c d", "a x c"), 0.5);
/// ```
pub fn word_error_rate(reference: &str, hypothesis: &str) -> f64 {
    let r_norm = normalize(reference);
    let h_norm = normalize(hypothesis);
    let r: Vec<&str> = r_norm.split_whitespace().collect();
    let h: Vec<&str> = h_norm.split_whitespace().collect();
    if r.is_empty() {
        return if h.is_empty() { 0.0 } else { 1.0 };
    }
    let mut prev: Vec<usize> = (0..=h.len()).collect();
    let mut cur = vec![0; h.len() + 1];
    for i in 1..=r.len() {
        cur[0] = i;
        for j in 1..=h.len() {
            let sub = prev[j - 1] + usize::from(r[i - 1] != h[j - 1]);
            cur[j] = sub.min(prev[j] + 1).min(cur[j - 1] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[h.len()] as f64 / r.len() as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wer_counts_each_edit() {
        assert_eq!(
            word_error_rate("one two three four", "one two three four five"),
            0.25
        );
        assert_eq!(
            word_error_rate("one two three four", "two three four"),
            0.25
        );
        assert_eq!(word_error_rate("", ""), 0.0);
        assert_eq!(word_error_rate("", "x"), 1.0);
        assert_eq!(
            word_error_rate("Cold-hearted, ill disposed.", "cold hearted ill-disposed"),
            0.0
        );
    }
}
