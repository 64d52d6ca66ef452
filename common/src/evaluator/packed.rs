//! Synthesis weights re-laid out at load for the kernels of one ISA.
//!
//! Each layer after the first is cut twice into panels of consecutive output rows (rows past the
//! layer's width padded with zeros); a panel stores, for each input `k` in order, the weights of
//! its rows, so a kernel streams it sequentially. A concat layer's time column is packed as one
//! more input after `h`.
//! - Wide panels are `M` rows high (the ISA's register-tile height): the block kernel broadcasts
//!   one weight per row and input.
//! - Narrow panels are one vector (`LANES` rows) high: the few-coordinate kernel loads a vector
//!   of rows per input. It reads every weight once per coordinate, so it is bound by how fast
//!   the panels stream from cache: when every weight is an f16 value (a compact preset's
//!   matrices are), they are stored as f16 ([`Columns::F16`]) and widened as they are loaded,
//!   which halves that traffic (a pi-GAN's hidden layers take 0.9 MB instead of 1.8 MB, and
//!   stay in a 2 MB L2) and changes no result, since widening an f16 value to f32 is exact. On a
//!   CPU with AVX-512 VNNI they are 16-bit integers instead ([`Columns::I16`], see
//!   [`super::quantized`]): the same size, no widening at all, and the VNNI kernels run blocks
//!   from them too.
//!
//! The first layer, whose only input is `t`, keeps its weight column as is.

use super::kernel::Isa;
#[cfg(target_arch = "x86_64")]
use super::quantized::Quantized;
use super::weights::{Activation, NetworkWeights, SynthLayer};

/// Per-row modulation parameters: `[s0, ds, b0, db, β0, dβ]`, giving, at ramp fraction `f`,
/// `(s0 + ds f) · (W h + b0 + db f) + β0 + dβ f`.
pub(crate) const PARAMS_PER_ROW: usize = 6;

/// Where one packed layer (after the first) lives and how it is shaped.
pub(crate) struct PackedLayer {
    /// Width of `h`, the input coming from the previous layer.
    pub in_features: usize,
    /// Inputs the kernels reduce over: `in_features`, plus one for a time column.
    pub k: usize,
    /// Number of real output rows.
    pub out: usize,
    /// Number of wide panels.
    pub tiles: usize,
    /// Offset of the first wide panel in [`Packed::panels`].
    pub panel: usize,
    /// Offset of the first row's parameters in the voice's row-major parameter array.
    pub param: usize,
    /// Number of narrow panels (vectors of rows).
    pub vectors: usize,
    /// Offset of the first narrow panel in [`Packed::columns`].
    pub column: usize,
    /// Offset of the layer in the voice's parameter-major parameter array (`[6][vectors·LANES]`).
    pub soa: usize,
    /// The nonlinearity.
    pub activation: Activation,
}

/// The narrow panels: f32, or, when every value is an f16 value (a compact preset), f16 bit
/// patterns or 16-bit integers.
pub(crate) enum Columns {
    /// Plain f32 panels.
    F32(Vec<f32>),
    /// The same panels as IEEE half-precision bit patterns (each widens back exactly).
    F16(Vec<u16>),
    /// The layers quantized for the VNNI kernels, which then run every chunk (so the wide
    /// panels are not kept).
    #[cfg(target_arch = "x86_64")]
    I16(Quantized),
}

impl Columns {
    /// `columns` in the form `storage` picks on `isa`: when every value round-trips through
    /// f16 bit for bit, 16-bit integers for the VNNI kernels (on a VNNI CPU, for layers at least
    /// [`MIN_WIDTH`](super::quantized::MIN_WIDTH) wide) or f16 bit patterns; else as they are.
    fn new(columns: Vec<f32>, layers: &[SynthLayer], isa: Isa, storage: NarrowStorage) -> Columns {
        let exact = |v: &f32| half::f16::from_f32(*v).to_f32().to_bits() == v.to_bits();
        let allowed = match storage {
            NarrowStorage::Compact => true,
            #[cfg(test)]
            NarrowStorage::I16 | NarrowStorage::F16 => true,
            #[cfg(test)]
            NarrowStorage::F32 => false,
        };
        let compact = allowed && isa.loads_f16() && columns.iter().all(exact);
        #[cfg(target_arch = "x86_64")]
        {
            let widest = layers.iter().map(|l| l.in_features).max().unwrap_or(0);
            let integer = match storage {
                NarrowStorage::Compact => widest >= super::quantized::MIN_WIDTH,
                #[cfg(test)]
                NarrowStorage::I16 => true,
                #[cfg(test)]
                NarrowStorage::F16 | NarrowStorage::F32 => false,
            };
            if compact && integer && isa.has_vnni() {
                return Columns::I16(Quantized::new(layers));
            }
        }
        #[cfg(not(target_arch = "x86_64"))]
        let _ = layers;
        if compact {
            Columns::F16(
                columns
                    .iter()
                    .map(|v| half::f16::from_f32(*v).to_bits())
                    .collect(),
            )
        } else {
            Columns::F32(columns)
        }
    }
}

/// Which storage the narrow panels may use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum NarrowStorage {
    /// The fastest one for f16-valued weights: 16-bit integers where the CPU has AVX-512 VNNI
    /// and the layers are at least [`MIN_WIDTH`](super::quantized::MIN_WIDTH) wide, else f16
    /// where the ISA widens f16 in hardware.
    Compact,
    /// 16-bit integers where the CPU has AVX-512 VNNI, whatever the width (to test the integer
    /// kernels on small networks).
    #[cfg(test)]
    I16,
    /// f16 where possible, never integers (to compare the storages in tests).
    #[cfg(test)]
    F16,
    /// Always f32 (to compare the storages in tests).
    #[cfg(test)]
    F32,
}

/// A network's synthesis weights packed for one ISA.
pub(crate) struct Packed {
    /// The ISA the panels are shaped for.
    pub isa: Isa,
    /// The first layer's weight column (one per unit).
    pub first_weight: Vec<f32>,
    /// The first layer's nonlinearity.
    pub first_activation: Activation,
    /// Layers after the first.
    pub layers: Vec<PackedLayer>,
    /// All wide panels, layer after layer (empty with integer panels).
    pub panels: Vec<f32>,
    /// All narrow panels, layer after layer.
    pub columns: Columns,
    /// Length of the row-major parameter array of layers after the first (which only the
    /// f32 block kernel reads): 0 with integer panels.
    pub param_len: usize,
    /// Length of the parameter-major parameter array of layers after the first.
    pub soa_len: usize,
    /// Rows each activation buffer needs.
    pub buffer_rows: usize,
}

impl Packed {
    /// Packs validated weights for `isa` with the narrow panels in `storage`.
    pub(crate) fn with_storage(
        weights: &NetworkWeights,
        isa: Isa,
        storage: NarrowStorage,
    ) -> Packed {
        let (m, lanes) = (isa.rows_per_tile(), isa.lanes());
        let first = &weights.layers[0];
        let mut buffer_rows = first.out_features;
        let (mut panels, mut columns) = (Vec::new(), Vec::new());
        let mut layers = Vec::with_capacity(weights.layers.len() - 1);
        let (mut param, mut soa) = (0, 0);
        for layer in &weights.layers[1..] {
            let out = layer.out_features;
            let (tiles, vectors) = (out.div_ceil(m), out.div_ceil(lanes));
            let k = layer.in_features + usize::from(time_column(layer).is_some());
            let panel = pack(layer, m, &mut panels);
            let column = pack(layer, lanes, &mut columns);
            buffer_rows = buffer_rows.max(tiles * m).max(vectors * lanes).max(k);
            layers.push(PackedLayer {
                in_features: layer.in_features,
                k,
                out,
                tiles,
                panel,
                param,
                vectors,
                column,
                soa,
                activation: layer.activation,
            });
            param += tiles * m * PARAMS_PER_ROW;
            soa += vectors * lanes * PARAMS_PER_ROW;
        }
        let columns = Columns::new(columns, &weights.layers[1..], isa, storage);
        #[cfg(target_arch = "x86_64")]
        if matches!(columns, Columns::I16(_)) {
            // The VNNI kernels run blocks from the integer panels too, and read only the
            // parameter-major layout: neither the wide panels nor row-major parameters are
            // kept, so voices do not write them.
            panels = Vec::new();
            param = 0;
        }
        Packed {
            isa,
            first_weight: first.weight.clone(),
            first_activation: first.activation,
            layers,
            panels,
            columns,
            param_len: param,
            soa_len: soa,
            buffer_rows,
        }
    }
}

fn time_column(layer: &SynthLayer) -> Option<&[f32]> {
    layer.concat.as_ref().and_then(|c| c.time.as_deref())
}

/// Appends `layer` as panels of `height` rows, `[panel][k][height]`; returns where they start.
fn pack(layer: &SynthLayer, height: usize, into: &mut Vec<f32>) -> usize {
    let (n_in, time) = (layer.in_features, time_column(layer));
    let k = n_in + usize::from(time.is_some());
    let start = into.len();
    into.resize(
        start + layer.out_features.div_ceil(height) * height * k,
        0.0,
    );
    for (row, w) in layer.weight.chunks_exact(n_in).enumerate() {
        let base = start + (row / height) * height * k + row % height;
        let time_w = time.map(|t| t[row]);
        for (i, v) in w.iter().copied().chain(time_w).enumerate() {
            into[base + i * height] = v;
        }
    }
    start
}
