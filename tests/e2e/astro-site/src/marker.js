export const marker = 'A';
