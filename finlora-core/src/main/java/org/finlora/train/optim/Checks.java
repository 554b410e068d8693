package org.finlora.train.optim;

import java.util.List;

final class Checks {
    private Checks() {
    }

    static void sameShapes(List<float[]> params, List<float[]> grads) {
        if (grads.size() != params.size()) throw new IllegalArgumentException(grads.size() + " gradients for " + params.size() + " parameters");
        for (int i = 0; i < params.size(); i++) {
            if (grads.get(i).length != params.get(i).length) {
                throw new IllegalArgumentException("gradient " + i + " has " + grads.get(i).length + " elements, parameter has " + params.get(i).length);
            }
        }
    }
}
