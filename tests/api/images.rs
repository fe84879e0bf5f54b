//! Real images of each accepted format, encoded by the `image` crate.

use std::io::Cursor;

use image::{ImageFormat, RgbaImage};

pub fn encoded(format: ImageFormat, width: u32, height: u32) -> Vec<u8> {
    let pixels = RgbaImage::from_fn(width, height, |x, y| {
        image::Rgba([(x * 40) as u8, (y * 40) as u8, 128, 255])
    });
    let mut bytes = Cursor::new(Vec::new());
    match format {
        ImageFormat::Jpeg => image::DynamicImage::ImageRgba8(pixels)
            .to_rgb8()
            .write_to(&mut bytes, format)
            .expect("encode JPEG"),
        _ => pixels.write_to(&mut bytes, format).expect("encode image"),
    }
    bytes.into_inner()
}

/// An animated GIF of `frames` frames of `width` × `height`.
pub fn animated_gif(frames: u32, width: u32, height: u32) -> Vec<u8> {
    let mut bytes = Vec::new();
    {
        let mut encoder = image::codecs::gif::GifEncoder::new(&mut bytes);
        let frames = (0..frames).map(|index| {
            let pixels = RgbaImage::from_fn(width, height, |x, y| {
                image::Rgba([(x * 40) as u8, (y * 40) as u8, (index * 60) as u8, 255])
            });
            image::Frame::new(pixels)
        });
        encoder.encode_frames(frames).expect("encode GIF animation");
    }
    bytes
}

pub fn png() -> Vec<u8> {
    encoded(ImageFormat::Png, 4, 4)
}

/// A real PNG whose header is patched to declare `width` × `height` pixels (with the
/// header's CRC made right again), the way a hostile upload is made.
pub fn png_declaring(width: u32, height: u32) -> Vec<u8> {
    let mut real = png();
    real[16..20].copy_from_slice(&width.to_be_bytes());
    real[20..24].copy_from_slice(&height.to_be_bytes());
    let crc = crc32(&real[12..29]);
    real[29..33].copy_from_slice(&crc.to_be_bytes());
    real
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &byte in bytes {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = (crc >> 1) ^ (0xEDB8_8320 & (!(crc & 1)).wrapping_add(1));
        }
    }
    !crc
}
