//! Spoken languages: `auto` or one of whisper's language codes.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::{Error, Result};

/// whisper.cpp's languages (code, English name), in whisper's id order.
pub const LANGUAGES: &[(&str, &str)] = &[
    ("en", "english"),
    ("zh", "chinese"),
    ("de", "german"),
    ("es", "spanish"),
    ("ru", "russian"),
    ("ko", "korean"),
    ("fr", "french"),
    ("ja", "japanese"),
    ("pt", "portuguese"),
    ("tr", "turkish"),
    ("pl", "polish"),
    ("ca", "catalan"),
    ("nl", "dutch"),
    ("ar", "arabic"),
    ("sv", "swedish"),
    ("it", "italian"),
    ("id", "indonesian"),
    ("hi", "hindi"),
    ("fi", "finnish"),
    ("vi", "vietnamese"),
    ("he", "hebrew"),
    ("uk", "ukrainian"),
    ("el", "greek"),
    ("ms", "malay"),
    ("cs", "czech"),
    ("ro", "romanian"),
    ("da", "danish"),
    ("hu", "hungarian"),
    ("ta", "tamil"),
    ("no", "norwegian"),
    ("th", "thai"),
    ("ur", "urdu"),
    ("hr", "croatian"),
    ("bg", "bulgarian"),
    ("lt", "lithuanian"),
    ("la", "latin"),
    ("mi", "maori"),
    ("ml", "malayalam"),
    ("cy", "welsh"),
    ("sk", "slovak"),
    ("te", "telugu"),
    ("fa", "persian"),
    ("lv", "latvian"),
    ("bn", "bengali"),
    ("sr", "serbian"),
    ("az", "azerbaijani"),
    ("sl", "slovenian"),
    ("kn", "kannada"),
    ("et", "estonian"),
    ("mk", "macedonian"),
    ("br", "breton"),
    ("eu", "basque"),
    ("is", "icelandic"),
    ("hy", "armenian"),
    ("ne", "nepali"),
    ("mn", "mongolian"),
    ("bs", "bosnian"),
    ("kk", "kazakh"),
    ("sq", "albanian"),
    ("sw", "swahili"),
    ("gl", "galician"),
    ("mr", "marathi"),
    ("pa", "punjabi"),
    ("si", "sinhala"),
    ("km", "khmer"),
    ("sn", "shona"),
    ("yo", "yoruba"),
    ("so", "somali"),
    ("af", "afrikaans"),
    ("oc", "occitan"),
    ("ka", "georgian"),
    ("be", "belarusian"),
    ("tg", "tajik"),
    ("sd", "sindhi"),
    ("gu", "gujarati"),
    ("am", "amharic"),
    ("yi", "yiddish"),
    ("lo", "lao"),
    ("uz", "uzbek"),
    ("fo", "faroese"),
    ("ht", "haitian creole"),
    ("ps", "pashto"),
    ("tk", "turkmen"),
    ("nn", "nynorsk"),
    ("mt", "maltese"),
    ("sa", "sanskrit"),
    ("lb", "luxembourgish"),
    ("my", "myanmar"),
    ("bo", "tibetan"),
    ("tl", "tagalog"),
    ("mg", "malagasy"),
    ("as", "assamese"),
    ("tt", "tatar"),
    ("haw", "hawaiian"),
    ("ln", "lingala"),
    ("ha", "hausa"),
    ("ba", "bashkir"),
    ("jw", "javanese"),
    ("su", "sundanese"),
    ("yue", "cantonese"),
];

/// The language of the speech: detect it (`auto`) or a whisper language code.
///
/// Parses codes (`en`), English names (`english`) and `auto`, case-insensitively.
///
/// ```
/// use ytcaption::Language;
/// assert_eq!("EN".parse::<Language>().unwrap().code(), Some("en"));
/// assert_eq!("spanish".parse::<Language>().unwrap().code(), Some("es"));
/// assert_eq!("auto".parse::<Language>().unwrap(), Language::Auto);
/// assert_eq!("xx".parse::<Language>().unwrap_err().code(), "invalid_input");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub enum Language {
    /// Detect the language from the audio.
    #[default]
    Auto,
    /// A known whisper language (its code).
    Code(&'static str),
}

impl Language {
    /// The code, or `None` for `auto`.
    pub fn code(&self) -> Option<&'static str> {
        match self {
            Language::Auto => None,
            Language::Code(c) => Some(c),
        }
    }

    /// `auto` or the code.
    pub fn as_str(&self) -> &'static str {
        self.code().unwrap_or("auto")
    }

    /// Whether this is English.
    pub fn is_english(&self) -> bool {
        self.code() == Some("en")
    }

    /// The English name of a language code (`"es"` → `"spanish"`).
    pub fn name_of(code: &str) -> Option<&'static str> {
        LANGUAGES.iter().find(|(c, _)| *c == code).map(|(_, n)| *n)
    }
}

impl fmt::Display for Language {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Language {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        let s = s.trim().to_ascii_lowercase();
        if s.is_empty() || s == "auto" {
            return Ok(Language::Auto);
        }
        LANGUAGES
            .iter()
            .find(|(code, name)| *code == s || *name == s)
            .map(|(code, _)| Language::Code(code))
            .ok_or_else(|| {
                Error::invalid(format!(
                    "unknown language {s:?}: use auto or one of whisper's codes (en, es, pt, de, fr, ...)"
                ))
            })
    }
}

impl Serialize for Language {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Language {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_whisper_sized_and_unique() {
        assert_eq!(LANGUAGES.len(), 100);
        let mut codes: Vec<_> = LANGUAGES.iter().map(|(c, _)| *c).collect();
        codes.sort();
        codes.dedup();
        assert_eq!(codes.len(), 100);
    }

    #[test]
    fn serde_roundtrip() {
        let l: Language = serde_json::from_str("\"pt\"").unwrap();
        assert_eq!(l, Language::Code("pt"));
        assert_eq!(serde_json::to_string(&Language::Auto).unwrap(), "\"auto\"");
        assert!(serde_json::from_str::<Language>("\"klingon\"").is_err());
    }
}
