//! From a drawing to PNG bytes: the bitmap, supersampling and a deterministic encoder.
//!
//! The same drawing always gives the same bytes: the PNG holds the pixels and nothing
//! else (no time stamp, no text chunks), encoded with fixed settings.

use plotters::backend::{BitMapBackend, RGBPixel};
use plotters::drawing::IntoDrawingArea;

use super::ExportError;
use super::canvas::Canvas;
use super::font;

/// Device pixels per layout pixel, per direction: 2 (four samples per pixel, which smooths
/// the edges of lines and markers) up to 4 megapixels, else 1 to bound memory.
fn supersampling(width: u32, height: u32) -> u32 {
    if u64::from(width) * u64::from(height) <= 4_000_000 {
        2
    } else {
        1
    }
}

/// Draws an image of `width` × `height` layout pixels with `draw` and encodes it as PNG.
pub(crate) fn render(
    width: u32,
    height: u32,
    draw: impl FnOnce(&Canvas) -> Result<(), ExportError>,
) -> Result<Vec<u8>, ExportError> {
    font::ensure_registered()?;
    let ss = supersampling(width, height);
    let (dw, dh) = (width * ss, height * ss);
    let len = usize::try_from(u64::from(dw) * u64::from(dh) * 3)
        .map_err(|_| ExportError::Draw("image too large".to_owned()))?;
    let mut buf = vec![0xFFu8; len];
    {
        let backend = BitMapBackend::<RGBPixel>::with_buffer_and_format(&mut buf, (dw, dh))
            .map_err(|e| ExportError::Draw(e.to_string()))?;
        let area = backend.into_drawing_area();
        let canvas = Canvas::new(&area, f64::from(ss));
        draw(&canvas)?;
        area.present()
            .map_err(|e| ExportError::Draw(e.to_string()))?;
    }
    let pixels = downsample(&buf, dw, dh, ss);
    encode(&pixels, width, height)
}

/// Averages `ss` × `ss` blocks of an RGB image `w` × `h` device pixels.
fn downsample(buf: &[u8], w: u32, h: u32, ss: u32) -> Vec<u8> {
    if ss == 1 {
        return buf.to_vec();
    }
    let (w, h, ss) = (w as usize, h as usize, ss as usize);
    let (ow, oh) = (w / ss, h / ss);
    let n = (ss * ss) as u32;
    let block = ss * 3;
    let mut out = vec![0xFFu8; ow * oh * 3];
    // Most of an image is white paper: runs of `SPAN` output pixels whose samples are all
    // white are skipped (the slice comparison is a memcmp, fast even in debug builds).
    const SPAN: usize = 32;
    let white = vec![0xFFu8; SPAN * block];
    for (oy, out_row) in out.chunks_exact_mut(ow * 3).enumerate() {
        let rows: Vec<&[u8]> = (0..ss)
            .map(|dy| &buf[(oy * ss + dy) * w * 3..][..ow * block])
            .collect();
        for (span, out_span) in out_row.chunks_mut(SPAN * 3).enumerate() {
            let pixels = out_span.len() / 3;
            let start = span * SPAN * block;
            let len = pixels * block;
            if rows.iter().all(|r| r[start..start + len] == white[..len]) {
                continue;
            }
            for (k, o) in out_span.chunks_exact_mut(3).enumerate() {
                let at = start + k * block;
                let mut sum = [0u32; 3];
                for r in &rows {
                    for px in r[at..at + block].chunks_exact(3) {
                        sum[0] += u32::from(px[0]);
                        sum[1] += u32::from(px[1]);
                        sum[2] += u32::from(px[2]);
                    }
                }
                for (c, s) in o.iter_mut().zip(sum) {
                    // The average of u8 values fits in u8.
                    *c = ((s + n / 2) / n) as u8;
                }
            }
        }
    }
    out
}

/// Encodes 8-bit RGB pixels as a PNG.
fn encode(pixels: &[u8], width: u32, height: u32) -> Result<Vec<u8>, ExportError> {
    let mut bytes = Vec::new();
    let mut encoder = png::Encoder::new(&mut bytes, width, height);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    encoder.set_compression(png::Compression::Balanced);
    let encode_err = |e: png::EncodingError| ExportError::Encode(e.to_string());
    let mut writer = encoder.write_header().map_err(encode_err)?;
    writer.write_image_data(pixels).map_err(encode_err)?;
    writer.finish().map_err(encode_err)?;
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn downsampling_averages_blocks() {
        // 2 x 2 device pixels: black, white, white, white -> one pixel of 191.
        let buf = [0, 0, 0, 255, 255, 255, 255, 255, 255, 255, 255, 255];
        assert_eq!(downsample(&buf, 2, 2, 2), [191, 191, 191]);
    }

    #[test]
    fn a_blank_image_is_a_valid_png() {
        let png = render(40, 30, |_| Ok(())).expect("renders");
        assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"));
        let decoder = png::Decoder::new(std::io::Cursor::new(&png));
        let reader = decoder.read_info().expect("reads back");
        assert_eq!((reader.info().width, reader.info().height), (40, 30));
    }
}
