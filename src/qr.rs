//! QR rendering for screens and print (the `qrcode` crate): SVG, and PNG through `image`.

use qrcode::QrCode;
use qrcode::render::svg;

use crate::error::ApiError;

pub fn svg(data: &str, min_size: u32) -> Result<String, ApiError> {
    let code = QrCode::new(data.as_bytes()).map_err(ApiError::unexpected)?;
    Ok(code.render::<svg::Color>().min_dimensions(min_size, min_size).quiet_zone(true).build())
}

pub fn png(data: &str, min_size: u32) -> Result<Vec<u8>, ApiError> {
    let code = QrCode::new(data.as_bytes()).map_err(ApiError::unexpected)?;
    let image = code.render::<image::Luma<u8>>().min_dimensions(min_size, min_size).quiet_zone(true).build();
    let mut out = std::io::Cursor::new(Vec::new());
    image.write_to(&mut out, image::ImageFormat::Png).map_err(ApiError::unexpected)?;
    Ok(out.into_inner())
}
