#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BBox {
    pub min_lat: f64,
    pub min_lon: f64,
    pub max_lat: f64,
    pub max_lon: f64,
}

impl BBox {
    pub fn contains(&self, p: (f64, f64)) -> bool {
        p.0 >= self.min_lat && p.0 <= self.max_lat && p.1 >= self.min_lon && p.1 <= self.max_lon
    }

    pub fn around(points: &[(f64, f64)]) -> Option<BBox> {
        let first = points.first()?;
        let mut b = BBox { min_lat: first.0, min_lon: first.1, max_lat: first.0, max_lon: first.1 };
        for p in points {
            b.min_lat = b.min_lat.min(p.0); b.max_lat = b.max_lat.max(p.0);
            b.min_lon = b.min_lon.min(p.1);
            b.max_lon = b.max_lon.max(p.1);
        }
        Some(b)
    }
}
