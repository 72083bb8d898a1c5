//! Layers held in memory: a [`LayerSource`] for tests and small fixtures
//! that also counts how often each layer is opened.

use std::io::{Cursor, Read};
use std::sync::{Arc, Mutex};

use super::error::RootfsError;
use super::layer::{LayerInfo, LayerSource};
use crate::image::digest::Digest;

/// Layers kept as byte vectors, bottom first.
#[derive(Debug, Default)]
pub struct MemoryLayerSource {
    layers: Vec<LayerInfo>,
    blobs: Vec<Arc<[u8]>>,
    opens: Mutex<Vec<usize>>,
}

impl MemoryLayerSource {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a layer on top of the others and returns its index.
    pub fn push(&mut self, media_type: &str, blob: Vec<u8>) -> usize {
        self.layers.push(LayerInfo {
            digest: Digest::of(&blob),
            media_type: media_type.to_string(),
            size: blob.len() as u64,
        });
        self.blobs.push(blob.into());
        if let Ok(opens) = self.opens.get_mut() {
            opens.push(0);
        }
        self.layers.len() - 1
    }

    /// How many times each layer (bottom first) has been opened.
    pub fn open_counts(&self) -> Vec<usize> {
        self.opens
            .lock()
            .map(|opens| opens.clone())
            .unwrap_or_default()
    }

    /// Forgets the open counts.
    pub fn reset_open_counts(&self) {
        if let Ok(mut opens) = self.opens.lock() {
            opens.iter_mut().for_each(|count| *count = 0);
        }
    }
}

impl LayerSource for MemoryLayerSource {
    fn layers(&self) -> &[LayerInfo] {
        &self.layers
    }

    fn open(&self, index: usize) -> Result<Box<dyn Read + Send>, RootfsError> {
        let blob = self.blobs.get(index).ok_or(RootfsError::NoSuchLayer {
            index,
            count: self.blobs.len(),
        })?;
        if let Ok(mut opens) = self.opens.lock() {
            if let Some(count) = opens.get_mut(index) {
                *count += 1;
            }
        }
        Ok(Box::new(Cursor::new(Arc::clone(blob))))
    }
}
