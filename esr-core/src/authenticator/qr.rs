//! QR codes of provisioning URIs, as SVG (the `qrcode` crate's renderer) and PNG (its module
//! matrix through the `png` encoder). Both keep the 4-module quiet zone readers need and use
//! error-correction level M, which authenticator apps read from a screen without trouble.

use crate::error::{Error, Result};
use qrcode::{Color, EcLevel, QrCode};

const QUIET_ZONE: usize = 4;

fn code(data: &[u8]) -> Result<QrCode> {
    QrCode::with_error_correction_level(data, EcLevel::M)
        .map_err(|_| Error::invalid("QR code", "the text is too long for a QR code"))
}

/// An SVG image of `data` as a QR code, each module 8 units wide.
pub(crate) fn svg(data: &[u8]) -> Result<String> {
    let code = code(data)?;
    Ok(code
        .render::<qrcode::render::svg::Color<'_>>()
        .module_dimensions(8, 8)
        .quiet_zone(true)
        .build())
}

/// A PNG image (8-bit greyscale) of `data` as a QR code, `scale` pixels to a module.
pub(crate) fn png(data: &[u8], scale: u32) -> Result<Vec<u8>> {
    if !(1..=32).contains(&scale) {
        return Err(Error::invalid(
            "QR scale",
            "give from 1 to 32 pixels a module (8 is a good size for a screen)",
        ));
    }
    let code = code(data)?;
    let modules = code.width();
    let colors = code.to_colors();
    let scale = scale as usize;
    let side = (modules + 2 * QUIET_ZONE) * scale;
    let mut pixels = vec![255u8; side * side];
    for (i, c) in colors.iter().enumerate() {
        if *c != Color::Dark {
            continue;
        }
        let (mx, my) = (i % modules + QUIET_ZONE, i / modules + QUIET_ZONE);
        for y in my * scale..(my + 1) * scale {
            pixels[y * side + mx * scale..y * side + (mx + 1) * scale].fill(0);
        }
    }
    let side32 =
        u32::try_from(side).map_err(|_| Error::invalid("QR scale", "the image is too large"))?;
    let mut out = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut out, side32, side32);
        enc.set_color(png::ColorType::Grayscale);
        enc.set_depth(png::BitDepth::Eight);
        let failed = |_| Error::invalid("QR code", "the PNG encoder failed");
        let mut w = enc.write_header().map_err(failed)?;
        w.write_image_data(&pixels).map_err(failed)?;
        w.finish().map_err(failed)?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn svg_and_png_are_made() {
        let s = svg(b"otpauth://totp/T:a?secret=GEZDGNBVGY3TQOJQ").unwrap();
        assert!(s.starts_with("<?xml") && s.contains("<svg"));
        let p = png(b"otpauth://totp/T:a?secret=GEZDGNBVGY3TQOJQ", 4).unwrap();
        assert_eq!(&p[..8], b"\x89PNG\r\n\x1a\n");
        assert!(png(b"x", 0).is_err());
    }
}
