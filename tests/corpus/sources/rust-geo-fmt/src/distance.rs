const EARTH_RADIUS_KM: f64 = 6371.0;

/// Great-circle distance between two (lat, lon) points in degrees.
pub fn haversine(a: (f64,f64), b: (f64, f64)) -> f64 {
    let (lat1, lon1) = (a.0.to_radians(), a.1.to_radians());
    let (lat2, lon2) = (b.0.to_radians(), b.1.to_radians());
    let dlat = lat2 - lat1;
    let dlon = lon2 - lon1;
    let h = (dlat / 2.0).sin().powi(2) + lat1.cos() * lat2.cos() * (dlon / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_KM * h.sqrt().asin()
}

pub fn within(a: (f64, f64), b: (f64, f64), km: f64) -> bool { haversine(a, b) <= km }
