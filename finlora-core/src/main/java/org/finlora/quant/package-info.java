/**
 * The quantization algorithms, with bitsandbytes' exact semantics where it defines them. Plain math on
 * float arrays and tensors: this package imports no kernel; the kernel package's formats
 * (org.finlora.kernel.WeightFormats) call it.
 *
 * <ul>
 *   <li>{@link org.finlora.quant.Bnb4bit}: NF4/FP4 tables and thresholds (f32 literals), strict-&gt;
 *       encoding (ties to the lower code, FP4 sign only for x &lt; 0), blocks over the flattened
 *       tensor, bnb packing. Decision: absmax = 0 follows CUDA (code 0).</li>
 *   <li>{@link org.finlora.quant.DynamicMap}: the signed/unsigned dynamic 8-bit maps (scalar torch
 *       linspace rule; within 2 ulp of torch 1.13's vectorized build, 212/256 and 210/256 entries
 *       bit-exact) and blockwise 8-bit quantization. Decision: exact midpoints go to the lower index
 *       (default backend), compared as |x - code| in f32.</li>
 *   <li>{@link org.finlora.quant.DoubleQuant}: offset = mean(absmax) accumulated in double, rounded
 *       once to f32; nested blocks of 256; expanded to one f32 scale per block at load time.</li>
 *   <li>{@link org.finlora.quant.LlmInt8}: LLM.int8 weights (fp16 cast first, rint(x * (127/SCB)))
 *       and activations (fp16 cast, outlier columns |x| &ge; threshold kept in f32, rowmax over the
 *       rest), output scaled by 6.200124e-05 as bnb's default backend.</li>
 *   <li>{@link org.finlora.quant.Int8Blockwise}: symmetric blockwise int8.</li>
 *   <li>{@link org.finlora.quant.Rtn}: asymmetric k-bit RTN, GPTQ's quantizer convention.</li>
 *   <li>{@link org.finlora.quant.BnbTensors}: bnb state-dict tensors (4-bit and 8-bit) to and from the
 *       kernel matrices, with one-line errors naming the tensor.</li>
 *   <li>{@link org.finlora.quant.QuantFormat}: parse("nf4:blocksize=64,double-quant=true") and
 *       quantize(Tensor).</li>
 * </ul>
 * The kernels live in org.finlora.kernel: Bnb4bitMatrix, Int8VectorwiseMatrix, Int8BlockMatrix,
 * RtnMatrix over the shared tiled engine DequantMatrix.
 */
package org.finlora.quant;
