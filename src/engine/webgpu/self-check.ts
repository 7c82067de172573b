import type { Network } from '../../graph/ir.js';
import type { Backend } from '../backend.js';

/**
 * A tiny network (strided, grouped conv → BN → ReLU → GAP → linear) whose logits the WebGPU backend
 * must reproduce before `auto` trusts it: catches drivers that compile but compute wrongly.
 */
export function selfCheckNetwork(): { network: Network; weights: Float32Array[]; input: Float32Array; batch: number } {
  const network: Network = {
    label: 'self-check',
    input: { channels: 2, height: 6, width: 6 },
    classes: 3,
    params: [
      { name: 'conv.weight', shape: [4, 1, 3, 3], role: 'conv', size: 36 },
      { name: 'bn.weight', shape: [4], role: 'bn-weight', size: 4 },
      { name: 'bn.bias', shape: [4], role: 'bn-bias', size: 4 },
      { name: 'classifier.weight', shape: [3, 4], role: 'linear-weight', size: 12 },
      { name: 'classifier.bias', shape: [3], role: 'linear-bias', size: 3 },
    ],
    layers: [
      { kind: 'input', shape: { channels: 2, height: 6, width: 6 } },
      { kind: 'conv', input: 0, weight: 0, kernel: 3, stride: 2, padding: 1, dilation: 1, groups: 2, shape: { channels: 4, height: 3, width: 3 } },
      { kind: 'batchnorm', input: 1, gamma: 1, beta: 2, shape: { channels: 4, height: 3, width: 3 } },
      { kind: 'relu', input: 2, shape: { channels: 4, height: 3, width: 3 } },
      { kind: 'gap', input: 3, shape: { channels: 4, height: 1, width: 1 } },
      { kind: 'linear', input: 4, weight: 3, bias: 4, shape: { channels: 3, height: 1, width: 1 } },
    ],
  };
  const pseudo = (length: number, salt: number) => Float32Array.from({ length }, (_, i) => Math.sin(i * 12.9898 + salt * 78.233) * 0.8);
  const weights = network.params.map((spec, index) => (spec.role === 'bn-weight' ? new Float32Array(spec.size).fill(1) : pseudo(spec.size, index + 1)));
  const batch = 3;
  return { network, weights, input: pseudo(batch * 72, 7), batch };
}

/** Whether `candidate` matches `reference` on the self-check network (relative 1e-4). */
export async function passesSelfCheck(candidate: Backend, reference: Backend): Promise<boolean> {
  const { network, weights, input, batch } = selfCheckNetwork();
  const request = { network, weights, inputs: [input], batch };
  const [[got], [want]] = await Promise.all([candidate.forward(request).then((r) => r.logits), reference.forward(request).then((r) => r.logits)]);
  const scale = want.reduce((most, v) => Math.max(most, Math.abs(v)), 0);
  return got.length === want.length && want.every((v, i) => Math.abs(got[i] - v) <= 1e-4 * scale + 1e-6);
}
