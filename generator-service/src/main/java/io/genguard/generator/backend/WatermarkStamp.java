package io.genguard.generator.backend;

import io.genguard.provenance.watermark.WatermarkParameters;

/** The watermark a backend embedded: which key and which parameters. */
public record WatermarkStamp(String scheme, String keyId, WatermarkParameters parameters) {}
