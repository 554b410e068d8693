package org.finlora.cli;

import org.finlora.kernel.WeightFormats;

import java.util.Iterator;

/** The registered --quant formats, for help texts. */
final class QuantNames implements Iterable<String> {
    @Override
    public Iterator<String> iterator() {
        return WeightFormats.names().stream().sorted().iterator();
    }
}
