//! Whisper models: ggml files, CTranslate2 import, download with checksum.
