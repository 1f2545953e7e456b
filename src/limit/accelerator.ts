/**
 * Normalises a full GPU product name (node label `<vendor>/gpu.product`) to the short accelerator
 * name used on VariantAutoscalings (docs/design/gpu-limiter.md): `NVIDIA-A100-PCIE-80GB` → `A100`,
 * `AMD-MI300X-192G` → `MI300X`, `Intel-Gaudi-2-96GB` → `Gaudi-2`, `A100` → `A100`.
 */
export function normalizeAcceleratorName(product: string): string {
  if (!product.includes("-")) return product;
  const parts = product.split("-");
  const vendor = parts[0].toUpperCase();
  if (vendor === "INTEL") return parts.length > 2 ? `${parts[1]}-${parts[2]}` : parts[1];
  return parts[1];
}
