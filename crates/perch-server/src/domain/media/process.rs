//! Turning an uploaded file into what Perch stores: the file is decoded in
//! full (so a file that only claims to be an image, or breaks off, is
//! refused), turned upright by its EXIF orientation, and encoded again,
//! which drops every piece of metadata it carried (EXIF with its GPS
//! position, XMP, comments, colour profiles); a preview at most
//! [`PREVIEW_SIDE`] pixels on its longer side is made from the same pixels.
//!
//! Nothing here touches the disk: it is CPU work on bytes, run on the
//! blocking pool by the caller, and either answers both files or refuses
//! the upload, so a refused upload leaves nothing behind.

use std::io::Cursor;

use image::codecs::gif::{GifDecoder, GifEncoder, Repeat};
use image::codecs::jpeg::JpegEncoder;
use image::codecs::webp::WebPEncoder;
use image::{AnimationDecoder, DynamicImage, ImageDecoder, ImageFormat, ImageReader, Limits};

/// The most pixels (width × height) an image may have: Mastodon's
/// `image_matrix_limit` (7680 × 4320), which apps read from the instance.
pub const MATRIX_LIMIT: u64 = 33_177_600;
/// The longer side of a preview, in pixels.
pub const PREVIEW_SIDE: u32 = 640;
/// The most memory one decode may take (every frame of a GIF together).
const ALLOC_LIMIT: u64 = 512 << 20;
/// The most frames an animated GIF may have.
const MAX_FRAMES: usize = 1000;

/// The image types Perch takes, as `(format, content type, extension)`.
pub const SUPPORTED: [(ImageFormat, &str, &str); 4] = [
    (ImageFormat::Jpeg, "image/jpeg", "jpg"),
    (ImageFormat::Png, "image/png", "png"),
    (ImageFormat::Gif, "image/gif", "gif"),
    (ImageFormat::WebP, "image/webp", "webp"),
];

/// One encoded file, ready to store.
#[derive(Debug, Clone)]
pub struct Encoded {
    /// The file's bytes.
    pub bytes: Vec<u8>,
    /// Its content type.
    pub content_type: &'static str,
    /// Its file extension.
    pub extension: &'static str,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
}

/// What an upload became: the cleaned original and its preview.
#[derive(Debug, Clone)]
pub struct Processed {
    /// The original, metadata removed.
    pub original: Encoded,
    /// The preview.
    pub preview: Encoded,
}

/// Why an upload was refused; each reads as the reason a person can act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    /// Not one of the supported types (by its content, not its name).
    #[error("is not a JPEG, PNG, GIF or WebP image")]
    NotAnImage,
    /// Larger than the size limit.
    #[error("is too large (the limit is {0} bytes)")]
    TooLarge(usize),
    /// More pixels than [`MATRIX_LIMIT`], or more memory to decode than
    /// Perch gives one image (a decompression bomb looks like this).
    #[error("has too many pixels (the limit is {MATRIX_LIMIT} pixels)")]
    TooManyPixels,
    /// Starts like an image but cannot be decoded (truncated or damaged).
    #[error("could not be read as an image: {0}")]
    Damaged(String),
}

/// The format of `bytes`, judged by their content.
pub fn sniff(bytes: &[u8]) -> Option<(ImageFormat, &'static str, &'static str)> {
    let format = image::guess_format(bytes).ok()?;
    SUPPORTED.into_iter().find(|(f, _, _)| *f == format)
}

/// Checks, cleans and previews an upload of at most `size_limit` bytes.
pub fn process(bytes: &[u8], size_limit: usize) -> Result<Processed, Refused> {
    if bytes.len() > size_limit {
        return Err(Refused::TooLarge(size_limit));
    }
    let (format, content_type, extension) = sniff(bytes).ok_or(Refused::NotAnImage)?;
    let (width, height) = reader(bytes, format).into_dimensions().map_err(refusal)?;
    if u64::from(width) * u64::from(height) > MATRIX_LIMIT || width == 0 || height == 0 {
        return Err(Refused::TooManyPixels);
    }
    let mut decoder = reader(bytes, format).into_decoder().map_err(refusal)?;
    let orientation = decoder.orientation().map_err(refusal)?;
    let mut image = DynamicImage::from_decoder(decoder).map_err(refusal)?;
    image.apply_orientation(orientation);
    let original = if format == ImageFormat::Gif {
        gif_frames(bytes, width, height)?
    } else {
        encode(&image, format)?
    };
    let original = Encoded {
        bytes: original,
        content_type,
        extension,
        width: image.width(),
        height: image.height(),
    };
    let small = if image.width().max(image.height()) > PREVIEW_SIDE {
        image.thumbnail(PREVIEW_SIDE, PREVIEW_SIDE)
    } else {
        image
    };
    // A GIF's preview is its first frame, still, as a PNG.
    let (preview_format, preview_type, preview_ext) = match format {
        ImageFormat::Gif => SUPPORTED[1],
        _ => (format, content_type, extension),
    };
    let preview = Encoded {
        bytes: encode(&small, preview_format)?,
        content_type: preview_type,
        extension: preview_ext,
        width: small.width(),
        height: small.height(),
    };
    Ok(Processed { original, preview })
}

fn reader(bytes: &[u8], format: ImageFormat) -> ImageReader<Cursor<&[u8]>> {
    // The pixel count is checked first (MATRIX_LIMIT); this bounds what
    // a decode may allocate whatever the header claimed.
    let mut limits = Limits::default();
    limits.max_alloc = Some(ALLOC_LIMIT);
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    reader.limits(limits);
    reader
}

/// Every frame of an animated GIF, encoded again (delays and looping
/// kept; comments and application extensions dropped).
fn gif_frames(bytes: &[u8], width: u32, height: u32) -> Result<Vec<u8>, Refused> {
    let decoder = GifDecoder::new(Cursor::new(bytes)).map_err(refusal)?;
    let frame_bytes = u64::from(width) * u64::from(height) * 4;
    let most = usize::try_from(ALLOC_LIMIT / frame_bytes.max(1))
        .unwrap_or(MAX_FRAMES)
        .clamp(1, MAX_FRAMES);
    let mut frames = Vec::new();
    for frame in decoder.into_frames() {
        if frames.len() == most {
            return Err(Refused::TooManyPixels);
        }
        frames.push(frame.map_err(refusal)?);
    }
    let mut out = Vec::new();
    {
        let mut encoder = GifEncoder::new(&mut out);
        encoder.set_repeat(Repeat::Infinite).map_err(refusal)?;
        encoder.encode_frames(frames).map_err(refusal)?;
    }
    Ok(out)
}

fn encode(image: &DynamicImage, format: ImageFormat) -> Result<Vec<u8>, Refused> {
    let mut out = Vec::new();
    match format {
        // JPEG has no alpha; 90 keeps photos close to what was sent.
        ImageFormat::Jpeg => image
            .to_rgb8()
            .write_with_encoder(JpegEncoder::new_with_quality(&mut out, 90)),
        // The only WebP encoder at hand is lossless: larger, never worse.
        ImageFormat::WebP => image
            .to_rgba8()
            .write_with_encoder(WebPEncoder::new_lossless(&mut out)),
        _ => image.write_to(&mut Cursor::new(&mut out), ImageFormat::Png),
    }
    .map_err(refusal)?;
    Ok(out)
}

fn refusal(e: image::ImageError) -> Refused {
    match e {
        image::ImageError::Limits(_) => Refused::TooManyPixels,
        image::ImageError::Unsupported(_) => Refused::NotAnImage,
        other => Refused::Damaged(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(width: u32, height: u32) -> Vec<u8> {
        let image = DynamicImage::new_rgb8(width, height);
        let mut out = Vec::new();
        image
            .write_to(&mut Cursor::new(&mut out), ImageFormat::Png)
            .expect("encode");
        out
    }

    #[test]
    fn a_large_image_gets_a_bounded_preview_and_keeps_its_size() {
        let done = process(&png(1280, 320), 1 << 20).expect("processed");
        assert_eq!((done.original.width, done.original.height), (1280, 320));
        assert_eq!((done.preview.width, done.preview.height), (640, 160));
        assert_eq!(done.original.content_type, "image/png");
    }

    #[test]
    fn text_truncation_and_size_are_refused() {
        assert_eq!(
            process(b"hello, not an image", 1 << 20).unwrap_err(),
            Refused::NotAnImage
        );
        let whole = png(64, 64);
        assert!(matches!(
            process(&whole[..whole.len() / 2], 1 << 20),
            Err(Refused::Damaged(_))
        ));
        assert_eq!(process(&whole, 10).unwrap_err(), Refused::TooLarge(10));
    }
}
