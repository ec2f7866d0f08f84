//! Image fixtures for the media tests: noisy pictures in each format, a
//! JPEG carrying EXIF, a PNG decompression bomb, multipart bodies with files.

use std::io::Cursor;

use image::{DynamicImage, ImageFormat, Rgb, RgbImage};

pub const BOUNDARY: &str = "perchmediaboundary93hf7Qz";
/// A marker put in a file's metadata; it must not survive the upload.
pub const SECRET: &[u8] = b"PerchSecretGPS-51.5N-0.12W";

/// A noisy RGB image (noise, so that compressed files are not tiny).
pub fn picture(width: u32, height: u32) -> DynamicImage {
    let mut seed = 0x2545_f491_u32;
    DynamicImage::ImageRgb8(RgbImage::from_fn(width, height, |x, y| {
        seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
        Rgb([(x % 256) as u8, (y % 256) as u8, (seed >> 24) as u8])
    }))
}

pub fn encoded(image: &DynamicImage, format: ImageFormat) -> Vec<u8> {
    let mut out = Vec::new();
    image
        .write_to(&mut Cursor::new(&mut out), format)
        .expect("encode");
    out
}

/// A JPEG with an EXIF segment holding [`SECRET`], right after its start.
pub fn jpeg_with_exif(width: u32, height: u32) -> Vec<u8> {
    let plain = encoded(&picture(width, height), ImageFormat::Jpeg);
    let mut payload = b"Exif\0\0".to_vec();
    payload.extend_from_slice(SECRET);
    let len = u16::try_from(payload.len() + 2).expect("short segment");
    let mut out = plain[..2].to_vec();
    out.extend_from_slice(&[0xFF, 0xE1]);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(&payload);
    out.extend_from_slice(&plain[2..]);
    out
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for b in bytes {
        crc ^= u32::from(*b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// A small PNG whose header claims 30000 × 30000 pixels: a decompression
/// bomb's shape (its pixels would take gigabytes).
pub fn png_bomb() -> Vec<u8> {
    let mut png = encoded(&picture(8, 8), ImageFormat::Png);
    // Signature (8), IHDR length (4), "IHDR" (4), width, height.
    png[16..20].copy_from_slice(&30_000u32.to_be_bytes());
    png[20..24].copy_from_slice(&30_000u32.to_be_bytes());
    let crc = crc32(&png[12..29]);
    png[29..33].copy_from_slice(&crc.to_be_bytes());
    png
}

/// A `multipart/form-data` body with text fields and file parts.
pub fn multipart(fields: &[(&str, &str)], files: &[(&str, &str, &[u8])]) -> Vec<u8> {
    let mut out = Vec::new();
    for (name, value) in fields {
        out.extend_from_slice(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
            .as_bytes(),
        );
    }
    for (name, file_name, bytes) in files {
        out.extend_from_slice(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"; \
                 filename=\"{file_name}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
            )
            .as_bytes(),
        );
        out.extend_from_slice(bytes);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    out
}
