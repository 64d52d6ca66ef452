//! How a whole FiLM-sine synthesis network is packed into the three inputs of the network ops
//! (the CPU-fused one in `fused`, the device-independent one in `composed`): the input rows
//! `[B, rows, in]` (with the tangent, each item's n values followed by their n time
//! derivatives), every layer's weight `[out_l, in_l]` row-major followed by the readout's
//! weight `[width]` and bias in one `[P]` vector, and per item every layer's scale then shift
//! in one `[B, F]` row. Both ops check their inputs against the same plan.

use candle_core::{Error, Result};

/// Where one layer's weight and film sit in the packed inputs.
#[derive(Debug, Clone, Copy)]
pub struct LayerSlot {
    /// Input width.
    pub inputs: usize,
    /// Output width.
    pub outputs: usize,
    /// Offset of the weight `[outputs, inputs]` in the packed weights.
    pub weight_at: usize,
    /// Offset of the scale `[outputs]` (then the shift `[outputs]`) in an item's film row.
    pub film_at: usize,
}

/// The packed network's layout, checked against the shapes of the op's inputs.
#[derive(Debug, Clone)]
pub struct Packing {
    /// The layers in order.
    pub layers: Vec<LayerSlot>,
    /// Batch items.
    pub items: usize,
    /// Value rows per item (the stacked input has twice as many rows with a tangent).
    pub points: usize,
    /// Film entries per item.
    pub film_len: usize,
    /// Where the readout's weight `[width]` and then its bias sit in the packed weights.
    pub readout_at: usize,
}

impl Packing {
    /// Lays out layers of output widths `widths` over inputs of dims `x` `[B, rows, in]`,
    /// weights `[P]` and film `[B, F]`, or says (prefixed by the op's `name`) why they do not
    /// fit.
    pub fn plan(
        name: &str,
        widths: &[usize],
        tangent: bool,
        x: &[usize],
        weights: &[usize],
        film: &[usize],
    ) -> Result<Packing> {
        let fail = |why: String| Err(Error::Msg(format!("{name}: {why}")));
        let (&[items, rows, first_in], &[packed], &[f_items, film_len]) = (x, weights, film) else {
            return fail(format!(
                "x {x:?}, weights {weights:?}, film {film:?} do not fit [B, rows, in], [P], [B, F]"
            ));
        };
        if widths.is_empty() {
            return fail("no layers".into());
        }
        if tangent && rows % 2 != 0 {
            return fail(format!(
                "{rows} stacked rows per item, not values then tangents"
            ));
        }
        let mut layers = Vec::with_capacity(widths.len());
        let (mut inputs, mut weight_at, mut film_at) = (first_in, 0, 0);
        for &outputs in widths {
            layers.push(LayerSlot {
                inputs,
                outputs,
                weight_at,
                film_at,
            });
            weight_at += inputs * outputs;
            film_at += 2 * outputs;
            inputs = outputs;
        }
        let readout_at = weight_at;
        let weights_len = weight_at + inputs + 1;
        if weights_len != packed || film_at != film_len || f_items != items {
            return fail(format!(
                "weights [{packed}] and film [{f_items}, {film_len}] do not fit {} layers of \
                 widths {widths:?} and a readout on {items} items of width {first_in} \
                 ([{weights_len}], [{items}, {film_at}])",
                widths.len(),
            ));
        }
        Ok(Packing {
            layers,
            items,
            points: if tangent { rows / 2 } else { rows },
            film_len,
            readout_at,
        })
    }

    /// The last layer's output width (the readout's input width).
    pub fn width(&self) -> usize {
        self.layers[self.layers.len() - 1].outputs
    }
}
