//! CRC-32 (ISO 3309 / ITU-T V.42), as PNG uses it.

const TABLE: [u32; 256] = {
    let mut table = [0u32; 256];
    let mut n = 0;
    while n < 256 {
        let mut c = n as u32;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 != 0 {
                0xEDB8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
            k += 1;
        }
        table[n] = c;
        n += 1;
    }
    table
};

/// The running value to start from.
pub(crate) const INIT: u32 = 0xFFFF_FFFF;

pub(crate) fn update(mut crc: u32, data: &[u8]) -> u32 {
    for &b in data {
        crc = TABLE[((crc ^ u32::from(b)) & 0xFF) as usize] ^ (crc >> 8);
    }
    crc
}

pub(crate) fn finish(crc: u32) -> u32 {
    crc ^ 0xFFFF_FFFF
}

#[cfg(test)]
mod tests {
    #[test]
    fn known_value() {
        // CRC of the IEND chunk type, found at the end of every PNG.
        assert_eq!(
            super::finish(super::update(super::INIT, b"IEND")),
            0xAE42_6082
        );
    }
}
