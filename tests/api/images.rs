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

pub fn png() -> Vec<u8> {
    encoded(ImageFormat::Png, 4, 4)
}

/// A PNG header declaring `width` × `height` pixels, with no image data behind it.
pub fn png_declaring(width: u32, height: u32) -> Vec<u8> {
    let mut real = png();
    real[16..20].copy_from_slice(&width.to_be_bytes());
    real[20..24].copy_from_slice(&height.to_be_bytes());
    real
}
