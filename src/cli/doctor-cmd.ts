export async function doctorCommand(): Promise<number> { await Promise.resolve(); return 1; }
