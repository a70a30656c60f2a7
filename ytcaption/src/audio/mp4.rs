//! MP4/M4A edit lists.
//!
//! AAC encoders put ~1024 samples of "priming" silence before the audio and pad the last frame;
//! MP4 files record that in the track's edit list (`moov/trak/edts/elst`): play the media from
//! `media_time`, for `segment_duration`. symphonia 0.6 parses the edit list but does not apply it
//! (its track has no `delay`/`padding` for MP4), so M4A audio would come out 1024 samples late
//! (23 ms at 44.1 kHz) with a padded tail. This module reads the edit list itself, so the decoder
//! can skip and cut exactly what players skip and cut.
//!
//! Only the simple, universal case is handled: one non-empty edit at normal rate (optionally after
//! nothing else). Anything else (several edits, empty leading edits, other rates, malformed
//! atoms) returns `None` and the audio is left as decoded.

use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::Path;

/// The audio track's single edit, in the media's and the movie's time scales.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Edit {
    /// Where playback starts in the media, in `media_timescale` units.
    pub media_time: u64,
    /// The media (track) time scale, from `mdhd`.
    pub media_timescale: u32,
    /// How long it plays, in `movie_timescale` units (`None`: to the end, e.g. fragmented files).
    pub segment_duration: Option<u64>,
    /// The movie time scale, from `mvhd`.
    pub movie_timescale: u32,
}

impl Edit {
    /// Frames to drop at the start, at `rate` Hz.
    pub(crate) fn skip_frames(&self, rate: u32) -> u64 {
        scale(self.media_time, rate, self.media_timescale)
    }

    /// Frames to play (after the skipped ones), at `rate` Hz.
    pub(crate) fn play_frames(&self, rate: u32) -> Option<u64> {
        self.segment_duration
            .map(|d| scale(d, rate, self.movie_timescale))
    }
}

fn scale(v: u64, rate: u32, timescale: u32) -> u64 {
    let ts = u128::from(timescale.max(1));
    ((u128::from(v) * u128::from(rate) * 2 + ts) / (2 * ts)) as u64
}

/// The edit of track `track_id` in the MP4 file at `path`, when it has exactly one that can be
/// applied.
pub(crate) fn audio_edit(path: &Path, track_id: u32) -> Option<Edit> {
    let file = File::open(path).ok()?;
    let len = file.metadata().ok()?.len();
    let mut r = BufReader::new(file);
    parse(&mut r, len, track_id)
}

fn parse<R: Read + Seek>(r: &mut R, len: u64, track_id: u32) -> Option<Edit> {
    let moov = atoms(r, 0, len).into_iter().find(|a| &a.kind == b"moov")?;
    let moov_children = atoms(r, moov.body, moov.end);
    let mvhd = moov_children.iter().find(|a| &a.kind == b"mvhd")?;
    let movie_timescale = read_timescale(r, mvhd)?;
    for trak in moov_children.iter().filter(|a| &a.kind == b"trak") {
        let children = atoms(r, trak.body, trak.end);
        let tkhd = children.iter().find(|a| &a.kind == b"tkhd")?;
        if read_track_id(r, tkhd)? != track_id {
            continue;
        }
        let mdia = children.iter().find(|a| &a.kind == b"mdia")?;
        let mdhd = atoms(r, mdia.body, mdia.end)
            .into_iter()
            .find(|a| &a.kind == b"mdhd")?;
        let media_timescale = read_timescale(r, &mdhd)?;
        let edts = children.iter().find(|a| &a.kind == b"edts")?;
        let elst = atoms(r, edts.body, edts.end)
            .into_iter()
            .find(|a| &a.kind == b"elst")?;
        let entries = read_elst(r, &elst)?;
        let [(segment_duration, media_time, rate)] = entries[..] else {
            return None;
        };
        if media_time < 0 || rate != 0x0001_0000 || media_timescale == 0 || movie_timescale == 0 {
            return None;
        }
        return Some(Edit {
            media_time: media_time as u64,
            media_timescale,
            segment_duration: (segment_duration > 0).then_some(segment_duration),
            movie_timescale,
        });
    }
    None
}

#[derive(Debug)]
struct Atom {
    kind: [u8; 4],
    /// Offset of the body (after the header).
    body: u64,
    /// Offset just past the atom.
    end: u64,
}

/// The atoms in `[start, end)`, stopping at the first malformed or truncated header.
fn atoms<R: Read + Seek>(r: &mut R, start: u64, end: u64) -> Vec<Atom> {
    let mut out = Vec::new();
    let mut pos = start;
    while pos + 8 <= end && out.len() < 10_000 {
        let mut head = [0u8; 8];
        if r.seek(SeekFrom::Start(pos)).is_err() || r.read_exact(&mut head).is_err() {
            break;
        }
        let size32 = u32::from_be_bytes([head[0], head[1], head[2], head[3]]);
        let kind = [head[4], head[5], head[6], head[7]];
        let (size, header) = match size32 {
            0 => (end - pos, 8),
            1 => {
                let mut large = [0u8; 8];
                if r.read_exact(&mut large).is_err() {
                    break;
                }
                (u64::from_be_bytes(large), 16)
            }
            n => (u64::from(n), 8),
        };
        if size < header || pos.checked_add(size).is_none_or(|e| e > end) {
            break;
        }
        out.push(Atom {
            kind,
            body: pos + header,
            end: pos + size,
        });
        pos += size;
    }
    out
}

/// Reads `n` bytes of an atom's body from `offset` (relative to the body).
fn read_at<R: Read + Seek>(r: &mut R, atom: &Atom, offset: u64, buf: &mut [u8]) -> Option<()> {
    let at = atom.body.checked_add(offset)?;
    if at.checked_add(buf.len() as u64)? > atom.end {
        return None;
    }
    r.seek(SeekFrom::Start(at)).ok()?;
    r.read_exact(buf).ok()
}

fn u32_at<R: Read + Seek>(r: &mut R, atom: &Atom, offset: u64) -> Option<u32> {
    let mut b = [0u8; 4];
    read_at(r, atom, offset, &mut b)?;
    Some(u32::from_be_bytes(b))
}

fn version<R: Read + Seek>(r: &mut R, atom: &Atom) -> Option<u8> {
    let mut b = [0u8; 1];
    read_at(r, atom, 0, &mut b)?;
    Some(b[0])
}

/// `mvhd`/`mdhd`: version+flags, creation and modification times (32 or 64 bits), time scale.
fn read_timescale<R: Read + Seek>(r: &mut R, atom: &Atom) -> Option<u32> {
    match version(r, atom)? {
        0 => u32_at(r, atom, 12),
        1 => u32_at(r, atom, 20),
        _ => None,
    }
}

/// `tkhd`: version+flags, creation and modification times (32 or 64 bits), track id.
fn read_track_id<R: Read + Seek>(r: &mut R, atom: &Atom) -> Option<u32> {
    match version(r, atom)? {
        0 => u32_at(r, atom, 12),
        1 => u32_at(r, atom, 20),
        _ => None,
    }
}

/// `elst` entries: (segment duration, media time, media rate as 16.16 fixed point).
fn read_elst<R: Read + Seek>(r: &mut R, atom: &Atom) -> Option<Vec<(u64, i64, u32)>> {
    let v = version(r, atom)?;
    let count = u32_at(r, atom, 4)?;
    if count > 16 {
        return None;
    }
    let entry_len: u64 = if v == 1 { 20 } else { 12 };
    let mut out = Vec::new();
    for i in 0..u64::from(count) {
        let off = 8 + i * entry_len;
        let entry = if v == 1 {
            let mut b = [0u8; 20];
            read_at(r, atom, off, &mut b)?;
            (
                u64::from_be_bytes(b[0..8].try_into().ok()?),
                i64::from_be_bytes(b[8..16].try_into().ok()?),
                u32::from_be_bytes(b[16..20].try_into().ok()?),
            )
        } else if v == 0 {
            let mut b = [0u8; 12];
            read_at(r, atom, off, &mut b)?;
            (
                u64::from(u32::from_be_bytes(b[0..4].try_into().ok()?)),
                i64::from(i32::from_be_bytes(b[4..8].try_into().ok()?)),
                u32::from_be_bytes(b[8..12].try_into().ok()?),
            )
        } else {
            return None;
        };
        out.push(entry);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    fn atom(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
        let mut v = ((body.len() + 8) as u32).to_be_bytes().to_vec();
        v.extend_from_slice(kind);
        v.extend_from_slice(body);
        v
    }

    fn full(version: u8, rest: &[u8]) -> Vec<u8> {
        let mut v = vec![version, 0, 0, 0];
        v.extend_from_slice(rest);
        v
    }

    fn be32(v: u32) -> [u8; 4] {
        v.to_be_bytes()
    }

    /// A minimal movie: one track with the given elst entries (v0).
    fn movie(track_id: u32, entries: &[(u32, i32)], with_mdat_first: bool) -> Vec<u8> {
        let mvhd = atom(
            b"mvhd",
            &full(
                0,
                &[&be32(0)[..], &be32(0), &be32(1000), &be32(11_000)].concat(),
            ),
        );
        let tkhd = atom(
            b"tkhd",
            &full(0, &[&be32(0)[..], &be32(0), &be32(track_id)].concat()),
        );
        let mdhd = atom(
            b"mdhd",
            &full(
                0,
                &[&be32(0)[..], &be32(0), &be32(44_100), &be32(0)].concat(),
            ),
        );
        let mut elst_body = be32(entries.len() as u32).to_vec();
        for (d, t) in entries {
            elst_body.extend_from_slice(&be32(*d));
            elst_body.extend_from_slice(&t.to_be_bytes());
            elst_body.extend_from_slice(&be32(0x0001_0000));
        }
        let edts = atom(b"edts", &atom(b"elst", &full(0, &elst_body)));
        let mdia = atom(b"mdia", &mdhd);
        let trak = atom(b"trak", &[tkhd, edts, mdia].concat());
        let moov = atom(b"moov", &[mvhd, trak].concat());
        let ftyp = atom(b"ftyp", b"M4A \0\0\0\0");
        let mdat = atom(b"mdat", &[0u8; 100]);
        if with_mdat_first {
            [ftyp, mdat, moov].concat()
        } else {
            [ftyp, moov, mdat].concat()
        }
    }

    fn parse_bytes(b: &[u8], track: u32) -> Option<Edit> {
        parse(&mut Cursor::new(b), b.len() as u64, track)
    }

    #[test]
    fn reads_a_single_edit() {
        for mdat_first in [false, true] {
            let b = movie(1, &[(11_000, 1024)], mdat_first);
            let e = parse_bytes(&b, 1).unwrap();
            assert_eq!(e.skip_frames(44_100), 1024);
            assert_eq!(e.play_frames(44_100), Some(485_100));
            assert_eq!(e.skip_frames(22_050), 512);
        }
    }

    #[test]
    fn ignores_what_it_cannot_apply() {
        assert_eq!(parse_bytes(&movie(1, &[(11_000, 1024)], false), 2), None); // other track
        assert_eq!(
            parse_bytes(&movie(1, &[(10, -1), (11_000, 0)], false), 1),
            None
        ); // 2 edits
        assert_eq!(parse_bytes(&movie(1, &[], false), 1), None);
        let b = movie(1, &[(11_000, 1024)], true);
        // Truncated before the moov: nothing.
        assert_eq!(parse_bytes(&b[..b.len() - 20], 1), None);
        assert_eq!(parse_bytes(b"not an mp4 at all", 1), None);
        assert_eq!(parse_bytes(&[0, 0, 0, 1, b'm', b'o', b'o', b'v'], 1), None);
    }

    #[test]
    fn fragmented_files_have_no_duration() {
        let e = parse_bytes(&movie(1, &[(0, 1024)], false), 1).unwrap();
        assert_eq!(e.skip_frames(44_100), 1024);
        assert_eq!(e.play_frames(44_100), None);
    }
}
