import { z } from 'zod';

// Only the fields the bot reads; Partner Center adds links and attributes to everything, and may add more.

/** Partner Center's error body (error-codes page): `code` is a number in most answers, a string in some. */
export const PcErrorBodySchema = z.looseObject({
  code: z.union([z.number(), z.string()]).optional(),
  description: z.string().optional(),
  errorName: z.string().optional(),
  isRetryable: z.boolean().optional(),
  // The throttling answer (api-throttling-guidance) has these instead.
  statusCode: z.number().optional(),
  message: z.string().optional(),
});

export const CustomerSchema = z.looseObject({
  id: z.string(),
  companyProfile: z.looseObject({ companyName: z.string().nullish(), domain: z.string().nullish() }).nullish(),
  billingProfile: z.looseObject({ defaultAddress: z.looseObject({ country: z.string().nullish() }).nullish() }).nullish(),
});

export const RelationshipRequestSchema = z.looseObject({ url: z.url() });

export const SkuSchema = z.looseObject({
  id: z.string(),
  title: z.string().optional(),
  isTrial: z.boolean().optional(),
  minimumQuantity: z.number().optional(),
  maximumQuantity: z.number().optional(),
});

export const AvailabilitySchema = z.looseObject({
  id: z.string(),
  productId: z.string().optional(),
  skuId: z.string().optional(),
  catalogItemId: z.string(),
  country: z.string().optional(),
  defaultCurrency: z.looseObject({ code: z.string().optional() }).optional(),
  terms: z.array(z.looseObject({ duration: z.string(), billingCycle: z.string() })).default([]),
});

export const AvailabilitiesSchema = z.looseObject({ totalCount: z.number().optional(), items: z.array(AvailabilitySchema) });

export const CartSchema = z.looseObject({
  id: z.string(),
  status: z.string().optional(),
  expirationTimestamp: z.string().optional(),
  lineItems: z.array(
    z.looseObject({
      id: z.number(),
      catalogItemId: z.string(),
      quantity: z.number(),
      billingCycle: z.string().optional(),
      termDuration: z.string().nullish(),
      error: z.looseObject({ errorCode: z.union([z.number(), z.string()]).optional(), errorDescription: z.string().optional() }).nullish(),
    }),
  ),
});

export const OrderSchema = z.looseObject({
  id: z.string(),
  status: z.string().nullish(),
  creationDate: z.string().nullish(),
  billingCycle: z.string().nullish(),
  currencyCode: z.string().nullish(),
  lineItems: z.array(
    z.looseObject({
      lineItemNumber: z.number(),
      offerId: z.string(),
      subscriptionId: z.string().nullish(),
      quantity: z.number(),
      termDuration: z.string().nullish(),
      friendlyName: z.string().nullish(),
    }),
  ),
});

export const CheckoutResultSchema = z.looseObject({
  orders: z.array(OrderSchema).nullish(),
  orderErrors: z
    .array(
      z.looseObject({
        orderGroupId: z.string().nullish(),
        code: z.union([z.number(), z.string()]).nullish(),
        description: z.string().nullish(),
      }),
    )
    .nullish(),
});
